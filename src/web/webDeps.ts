import type { Authenticators } from '../auth/authenticate.js';
import type { SignedStatements } from '../auth/signedStatements.js';
import type { CatalogueFields } from '../partners/catalogue.js';
import type { Services } from '../services.js';

/** What the pages are built from; handed to each page module by the one place that registers them. */
export interface WebDeps {
  services: Services;
  /** For a token pasted into the sign-in form (outside production) and sessions that hold one. */
  authenticators: Authenticators;
  /** Page sessions and pending OpenID sign-ins, signed by the gateway. */
  statements: SignedStatements;
  /** Which fields each category opens, read from the SDL, for the catalogue. */
  catalogueFields: CatalogueFields;
}
