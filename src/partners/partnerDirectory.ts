import type { Sql } from '../store/database.js';
import { findPartner } from '../store/partners.js';

/** What a subject is shown about a partner: who it is, never its keys or approvals. */
export interface PartnerProfile {
  id: string;
  name: string;
  industry: string;
  contact: string | null;
}

export async function partnerProfile(db: Sql, partnerId: string): Promise<PartnerProfile | undefined> {
  const partner = await findPartner(db, partnerId);
  return partner && { id: partner.id, name: partner.name, industry: partner.industry, contact: partner.contact };
}

/** Display names by partner id; ids of partners that no longer exist are left out. */
export async function partnerNames(db: Sql, partnerIds: readonly string[]): Promise<Map<string, string>> {
  const profiles = await Promise.all([...new Set(partnerIds)].map((id) => partnerProfile(db, id)));
  return new Map(profiles.flatMap((p) => (p ? [[p.id, p.name] as [string, string]] : [])));
}
