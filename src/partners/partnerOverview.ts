import { decisionTotals, type DecisionTotals } from '../audit/decisionStats.js';
import { describePartnerKeys, type PartnerKeyDescription } from '../auth/partnerJwks.js';
import { NotFoundError } from '../errors.js';
import type { Sql } from '../store/database.js';
import { findPartner, lastTokenIssued, type Partner, type TokenIssuance } from '../store/partners.js';

const DAY_MS = 86_400_000;

export interface PartnerOverview {
  partner: Partner;
  keys: PartnerKeyDescription[];
  lastToken: TokenIssuance | null;
  /** Access decisions over the 24 hours before `now`, from the audit log. */
  lastDay: DecisionTotals & { from: Date; to: Date };
}

/**
 * Everything an operator checks about one partner: its approval, its keys
 * (ids and algorithms only), when it last got a token and how much it asked
 * over the last day. Requests refused before a decision (bad token, rate
 * limit, suspension) are not access decisions and are not counted.
 */
export async function partnerOverview(db: Sql, partnerId: string, now: Date): Promise<PartnerOverview> {
  const partner = await findPartner(db, partnerId);
  if (!partner) throw new NotFoundError(`No partner with id ${partnerId}.`);
  const from = new Date(now.getTime() - DAY_MS);
  const [lastToken, totals] = await Promise.all([
    lastTokenIssued(db, partnerId),
    decisionTotals(db, { partnerId, from: from.toISOString(), to: now.toISOString() }),
  ]);
  return { partner, keys: describePartnerKeys(partner.jwks), lastToken: lastToken ?? null, lastDay: { ...totals, from, to: now } };
}
