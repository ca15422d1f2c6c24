import { BadUserInputError, NotFoundError } from '../errors.js';
import type { Sql } from '../store/database.js';
import { findPartner, type Partner } from '../store/partners.js';
import { listCategories, listPurposes } from '../store/registries.js';

export const MAX_CONSENT_DAYS = 365;

export interface ConsentTerms {
  partnerId: string;
  purpose: string;
  categories: readonly string[];
  durationDays: number;
}

/**
 * What any consent, or any request for one, must satisfy: a duration of 1 to
 * 365 days, at least one category, every category known and within the
 * partner's approved scopes, the purpose known and approved for the partner.
 * Shared by grants and requests so both refuse the same things with the same words.
 */
export async function checkConsentTerms(db: Sql, terms: ConsentTerms): Promise<{ partner: Partner; categories: string[] }> {
  const categories = [...new Set(terms.categories)].sort();
  if (!Number.isInteger(terms.durationDays) || terms.durationDays < 1 || terms.durationDays > MAX_CONSENT_DAYS) {
    throw new BadUserInputError(`The duration must be a whole number of days from 1 to ${MAX_CONSENT_DAYS}.`, { field: 'durationDays' });
  }
  if (!categories.length) throw new BadUserInputError('At least one category is required.', { field: 'categories' });
  const partner = await findPartner(db, terms.partnerId);
  if (!partner) throw new NotFoundError(`No partner with id ${terms.partnerId}.`);
  const [knownCategories, knownPurposes] = await Promise.all([listCategories(db), listPurposes(db)]);
  const unknown = categories.filter((c) => !knownCategories.some((k) => k.name === c));
  if (unknown.length) throw new BadUserInputError(`Unknown categories: ${unknown.join(', ')}.`, { field: 'categories' });
  if (!knownPurposes.some((p) => p.name === terms.purpose)) {
    throw new BadUserInputError(`Unknown purpose: ${terms.purpose}.`, { field: 'purpose' });
  }
  if (!partner.purposes.includes(terms.purpose)) {
    throw new BadUserInputError(`Partner ${partner.id} is not approved for purpose ${terms.purpose}.`, { field: 'purpose' });
  }
  const outside = categories.filter((c) => !partner.scopes.includes(c));
  if (outside.length) {
    throw new BadUserInputError(`Partner ${partner.id} is not approved for: ${outside.join(', ')}.`, { field: 'categories' });
  }
  return { partner, categories };
}
