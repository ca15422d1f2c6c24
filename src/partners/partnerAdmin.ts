import { randomBytes } from 'node:crypto';
import type { JSONWebKeySet } from 'jose';
import type { AuditLog } from '../audit/auditLog.js';
import type { ActorType, AuditEventInput } from '../audit/chain.js';
import { jwksKids } from '../auth/partnerJwks.js';
import type { Clock } from '../clock.js';
import { BadUserInputError, NotFoundError } from '../errors.js';
import type { Database, Sql } from '../store/database.js';
import { findPartner, insertPartner, updatePartner, type NewPartner, type Partner, type PartnerChanges } from '../store/partners.js';
import { listCategories, listPurposes } from '../store/registries.js';

export interface PartnerAdminDeps {
  db: Database;
  auditLog: AuditLog;
  clock: Clock;
}

export interface PartnerActor {
  type: ActorType;
  id: string;
}

export type PartnerRegistration = Omit<NewPartner, 'id'> & { id?: string };

/** Client ids are opaque and unguessable; the prefix only tells people what kind of id they hold. */
export function newClientId(): string {
  return `p_${randomBytes(8).toString('hex')}`;
}

/** Registers a partner and records `partner.changed` in the same transaction: no change without its audit event. */
export async function registerPartner(deps: PartnerAdminDeps, input: PartnerRegistration, actor: PartnerActor): Promise<Partner> {
  if (!input.name.trim()) throw new BadUserInputError('A partner name is required.', { field: 'name' });
  if (!input.industry.trim()) throw new BadUserInputError('An industry is required.', { field: 'industry' });
  await checkAgainstRegistries(deps.db, input);
  checkRedirectUris(input.redirectUris ?? []);
  const now = deps.clock();
  const id = input.id ?? newClientId();
  return deps.auditLog.transaction(async (tx, record) => {
    const partner = await insertPartner(tx, { ...input, id }, now);
    await record([
      partnerChanged(partner.id, now, actor, {
        change: 'registered',
        name: partner.name,
        industry: partner.industry,
        scopes: partner.scopes,
        purposes: partner.purposes,
        redirectUris: partner.redirectUris,
        dpop: partner.dpop,
        kids: jwksKids(partner.jwks),
      }),
    ]);
    return partner;
  });
}

/** What an update changed: each member `{from, to}`; key sets appear as their kids only. */
export type PartnerChangeSummary = Partial<Record<keyof PartnerChanges | 'kids', { from: unknown; to: unknown }>>;

/**
 * Applies the changes that differ from the partner's current state and
 * records them; returns the partner and what changed (nothing when nothing differs).
 */
export async function changePartner(
  deps: PartnerAdminDeps,
  id: string,
  changes: PartnerChanges,
  actor: PartnerActor,
): Promise<{ partner: Partner; changed: PartnerChangeSummary }> {
  await checkAgainstRegistries(deps.db, changes);
  if (changes.redirectUris) checkRedirectUris(changes.redirectUris);
  const now = deps.clock();
  return deps.auditLog.transaction(async (tx, record) => {
    const before = await lockPartner(tx, id);
    const { effective, summary } = diffPartner(before, changes);
    if (!Object.keys(summary).length) return { partner: before, changed: summary };
    const partner = (await updatePartner(tx, id, effective, now))!;
    await record([partnerChanged(id, now, actor, { change: 'updated', changes: summary })]);
    return { partner, changed: summary };
  });
}

async function lockPartner(tx: Sql, id: string): Promise<Partner> {
  // Serialises concurrent updates of one partner, so each audit event's "from" is what the change replaced.
  await tx.query('SELECT 1 FROM partners WHERE id = $1 FOR UPDATE', [id]);
  const partner = await findPartner(tx, id);
  if (!partner) throw new NotFoundError(`No partner with id ${id}.`);
  return partner;
}

function diffPartner(before: Partner, changes: PartnerChanges): { effective: PartnerChanges; summary: PartnerChangeSummary } {
  const effective: Record<string, unknown> = {};
  const summary: PartnerChangeSummary = {};
  for (const [key, to] of Object.entries(changes) as [keyof PartnerChanges, unknown][]) {
    if (to === undefined) continue;
    const from = before[key];
    if (JSON.stringify(from) === JSON.stringify(to)) continue;
    effective[key] = to;
    if (key === 'jwks') summary.kids = { from: jwksKids(from as JSONWebKeySet), to: jwksKids(to as JSONWebKeySet) };
    else summary[key] = { from, to };
  }
  return { effective: effective as PartnerChanges, summary };
}

async function checkAgainstRegistries(db: Sql, p: { scopes?: string[]; purposes?: string[] }): Promise<void> {
  const [categories, purposes] = await Promise.all([listCategories(db), listPurposes(db)]);
  const unknown = (given: string[] | undefined, known: { name: string }[]) => (given ?? []).filter((g) => !known.some((k) => k.name === g));
  const badScopes = unknown(p.scopes, categories);
  if (badScopes.length) {
    throw new BadUserInputError(`Unknown scope(s): ${badScopes.join(', ')}. Known categories: ${categories.map((c) => c.name).join(', ')}.`, {
      field: 'scopes',
    });
  }
  const badPurposes = unknown(p.purposes, purposes);
  if (badPurposes.length) {
    throw new BadUserInputError(`Unknown purpose(s): ${badPurposes.join(', ')}. Known purposes: ${purposes.map((c) => c.name).join(', ')}.`, {
      field: 'purposes',
    });
  }
  if (p.scopes && !p.scopes.length) throw new BadUserInputError('At least one scope is required.', { field: 'scopes' });
  if (p.purposes && !p.purposes.length) throw new BadUserInputError('At least one purpose is required.', { field: 'purposes' });
}

/** Consent pages redirect subjects here, so only https (or http to this machine, for development) is allowed. */
function checkRedirectUris(uris: string[]): void {
  const bad = uris.filter((u) => {
    try {
      const url = new URL(u);
      const local = url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.hostname === '[::1]';
      return !(url.protocol === 'https:' || (url.protocol === 'http:' && local)) || url.hash !== '';
    } catch {
      return true;
    }
  });
  if (bad.length) {
    throw new BadUserInputError(`Redirect URIs must be https URLs (or http://localhost) without a fragment: ${bad.join(', ')}.`, {
      field: 'redirectUris',
    });
  }
}

function partnerChanged(partnerId: string, at: Date, actor: PartnerActor, details: Record<string, unknown>): AuditEventInput {
  return { kind: 'partner.changed', at, actorType: actor.type, actorId: actor.id, partnerId, details };
}
