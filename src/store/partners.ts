import type { JSONWebKeySet } from 'jose';
import type { PartnerStatus } from '../policy/facts.js';
import type { Sql } from './database.js';

export interface Partner {
  id: string;
  name: string;
  industry: string;
  contact: string | null;
  scopes: string[];
  purposes: string[];
  jwks: JSONWebKeySet;
  redirectUris: string[];
  status: PartnerStatus;
  /** RFC 9449: `required` refuses token requests without a DPoP proof; `optional` binds a token only when one is sent. */
  dpop: DpopMode;
  /** Only operations registered for it (by hash) are run; any other document is refused. */
  trustedDocumentsOnly: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export const DPOP_MODES = ['optional', 'required'] as const;
export type DpopMode = (typeof DPOP_MODES)[number];

export type NewPartner = Pick<Partner, 'id' | 'name' | 'industry' | 'scopes' | 'purposes' | 'jwks'> &
  Partial<Pick<Partner, 'contact' | 'redirectUris' | 'dpop'>>;

export type PartnerChanges = Partial<
  Pick<Partner, 'scopes' | 'purposes' | 'jwks' | 'redirectUris' | 'status' | 'name' | 'contact' | 'dpop' | 'trustedDocumentsOnly'>
>;

interface PartnerRow {
  id: string;
  name: string;
  industry: string;
  contact: string | null;
  scopes: string[];
  purposes: string[];
  jwks: JSONWebKeySet;
  redirect_uris: string[];
  status: PartnerStatus;
  dpop: DpopMode;
  trusted_documents_only: boolean;
  created_at: Date;
  updated_at: Date;
}

const fromRow = (r: PartnerRow): Partner => ({
  id: r.id,
  name: r.name,
  industry: r.industry,
  contact: r.contact,
  scopes: r.scopes,
  purposes: r.purposes,
  jwks: r.jwks,
  redirectUris: r.redirect_uris,
  status: r.status,
  dpop: r.dpop,
  trustedDocumentsOnly: r.trusted_documents_only,
  createdAt: new Date(r.created_at),
  updatedAt: new Date(r.updated_at),
});

export async function findPartner(db: Sql, id: string): Promise<Partner | undefined> {
  const [row] = await db.query<PartnerRow>('SELECT * FROM partners WHERE id = $1', [id]);
  return row && fromRow(row);
}

export interface PartnerFilter {
  status?: PartnerStatus;
  /** Partners approved for this category. */
  scope?: string;
  /** Partners approved for this purpose. */
  purpose?: string;
}

/** Partners by name, narrowed by every filter member given. */
export async function listPartners(db: Sql, filter: PartnerFilter = {}): Promise<Partner[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.status) where.push(`status = $${params.push(filter.status)}`);
  if (filter.scope) where.push(`scopes @> jsonb_build_array($${params.push(filter.scope)}::text)`);
  if (filter.purpose) where.push(`purposes @> jsonb_build_array($${params.push(filter.purpose)}::text)`);
  const rows = await db.query<PartnerRow>(`SELECT * FROM partners ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY name, id`, params);
  return rows.map(fromRow);
}

/** The last access token issued to a partner (its jti and scopes, never the token). */
export interface TokenIssuance {
  partnerId: string;
  jti: string;
  scopes: string[];
  issuedAt: Date;
  expiresAt: Date;
}

export async function recordTokenIssued(db: Sql, t: TokenIssuance): Promise<void> {
  await db.query(
    `INSERT INTO partner_token_issuance (partner_id, jti, scopes, issued_at, expires_at) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (partner_id) DO UPDATE SET jti = excluded.jti, scopes = excluded.scopes, issued_at = excluded.issued_at, expires_at = excluded.expires_at
     WHERE partner_token_issuance.issued_at <= excluded.issued_at`,
    [t.partnerId, t.jti, JSON.stringify(t.scopes), t.issuedAt, t.expiresAt],
  );
}

export async function lastTokenIssued(db: Sql, partnerId: string): Promise<TokenIssuance | undefined> {
  const [row] = await db.query<{ partner_id: string; jti: string; scopes: string[]; issued_at: Date; expires_at: Date }>(
    'SELECT * FROM partner_token_issuance WHERE partner_id = $1',
    [partnerId],
  );
  return row && { partnerId: row.partner_id, jti: row.jti, scopes: row.scopes, issuedAt: new Date(row.issued_at), expiresAt: new Date(row.expires_at) };
}

export async function insertPartner(db: Sql, p: NewPartner, now: Date): Promise<Partner> {
  const [row] = await db.query<PartnerRow>(
    `INSERT INTO partners (id, name, industry, contact, scopes, purposes, jwks, redirect_uris, created_at, updated_at, dpop)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10) RETURNING *`,
    [p.id, p.name, p.industry, p.contact ?? null, JSON.stringify(p.scopes), JSON.stringify(p.purposes), JSON.stringify(p.jwks), JSON.stringify(p.redirectUris ?? []), now, p.dpop ?? 'optional'],
  );
  return fromRow(row!);
}

export async function updatePartner(db: Sql, id: string, changes: PartnerChanges, now: Date): Promise<Partner | undefined> {
  const columns: Record<keyof PartnerChanges, string> = {
    scopes: 'scopes',
    purposes: 'purposes',
    jwks: 'jwks',
    redirectUris: 'redirect_uris',
    status: 'status',
    name: 'name',
    contact: 'contact',
    dpop: 'dpop',
    trustedDocumentsOnly: 'trusted_documents_only',
  };
  const sets: string[] = [];
  const params: unknown[] = [id, now];
  for (const [key, value] of Object.entries(changes) as [keyof PartnerChanges, unknown][]) {
    if (value === undefined) continue;
    params.push(typeof value === 'object' && value !== null ? JSON.stringify(value) : value);
    sets.push(`${columns[key]} = $${params.length}`);
  }
  const [row] = await db.query<PartnerRow>(
    `UPDATE partners SET ${[...sets, 'updated_at = $2'].join(', ')} WHERE id = $1 RETURNING *`,
    params,
  );
  return row && fromRow(row);
}
