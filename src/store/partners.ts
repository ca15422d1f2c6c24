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
  createdAt: Date;
  updatedAt: Date;
}

export type NewPartner = Pick<Partner, 'id' | 'name' | 'industry' | 'scopes' | 'purposes' | 'jwks'> &
  Partial<Pick<Partner, 'contact' | 'redirectUris'>>;

export type PartnerChanges = Partial<Pick<Partner, 'scopes' | 'purposes' | 'jwks' | 'redirectUris' | 'status' | 'name' | 'contact'>>;

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
  createdAt: new Date(r.created_at),
  updatedAt: new Date(r.updated_at),
});

export async function findPartner(db: Sql, id: string): Promise<Partner | undefined> {
  const [row] = await db.query<PartnerRow>('SELECT * FROM partners WHERE id = $1', [id]);
  return row && fromRow(row);
}

export async function listPartners(db: Sql): Promise<Partner[]> {
  return (await db.query<PartnerRow>('SELECT * FROM partners ORDER BY name')).map(fromRow);
}

export async function insertPartner(db: Sql, p: NewPartner, now: Date): Promise<Partner> {
  const [row] = await db.query<PartnerRow>(
    `INSERT INTO partners (id, name, industry, contact, scopes, purposes, jwks, redirect_uris, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING *`,
    [p.id, p.name, p.industry, p.contact ?? null, JSON.stringify(p.scopes), JSON.stringify(p.purposes), JSON.stringify(p.jwks), JSON.stringify(p.redirectUris ?? []), now],
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
