import type { GraphQLRequestContextDidResolveOperation } from '@apollo/server';
import type { DocumentNode } from 'graphql';
import { documentRefusal, sha256Hex, type TrustedDocumentLookup } from '../partners/trustedDocuments.js';
import type { GatewayContext } from './context.js';
import { resolveOperation } from './operationFields.js';
import type { ReleaseStep } from './plugins/requestGate.js';
import type { SchemaPolicy } from './schemaPolicy.js';

const hashes = new WeakMap<DocumentNode, string>();

/**
 * The SHA-256 of the document the request runs, as registered documents are
 * keyed. Apollo hands the same DocumentNode back for a repeated query string,
 * so a partner's fixed operations are hashed once.
 */
export function requestDocumentHash(rc: GraphQLRequestContextDidResolveOperation<GatewayContext>): string {
  let hash = hashes.get(rc.document);
  if (!hash) hashes.set(rc.document, (hash = sha256Hex(rc.source)));
  return hash;
}

/**
 * Trusted documents for partner operations that read no subjects (consent
 * requests, introspection): the partner's standing is read fresh, here, before
 * anything else is done; no checked audit append follows them to confirm a
 * cached one. Subject reads are checked by the release step, from the cached
 * standing the audit append confirms (documentStandingSource).
 */
export function trustedDocumentStep(lookup: TrustedDocumentLookup, policy: SchemaPolicy, release: ReleaseStep): ReleaseStep {
  return async (rc) => {
    const { principal } = rc.contextValue;
    if (principal?.kind === 'partner') {
      const op = resolveOperation(rc);
      const readsSubjects = op.rootFieldNames.some((n) => policy.subjectAccessFields.has(`${op.rootTypeName}.${n}`));
      if (!readsSubjects) {
        const refusal = documentRefusal(await lookup.standing(principal.partnerId, requestDocumentHash(rc)));
        if (refusal) throw refusal;
      }
    }
    await release(rc);
  };
}
