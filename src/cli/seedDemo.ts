import type { Command } from 'commander';
import { exportJWK, generateKeyPair } from 'jose';
import { grantConsent } from '../consent/grantConsent.js';
import { registerPartner } from '../partners/partnerAdmin.js';
import type { Services } from '../services.js';
import type { Database } from '../store/database.js';
import { upsertScoreSummaries } from '../store/scoreSummaries.js';
import { writeDemoCredentials, type DemoCredential } from './demo/demoCredentials.js';
import { backgroundConsents, DEMO_PARTNERS, WALKTHROUGH_CONSENTS, type DemoPartner } from './demo/demoPartners.js';
import { DEMO_SUBJECT, demoScoreSummaries, seededRandom } from './demo/demoScores.js';
import { printResult } from './output.js';
import { runCommand, withServices } from './runCommand.js';

export const DEMO_SUBJECT_COUNT = 300;
const SEED_ACTOR = { type: 'operator', id: 'seed-demo' } as const;

/** The audit event that marks a finished seeding; without it, demo partners mean an interrupted one. */
export const DEMO_SEEDED = 'demo.seeded';

/**
 * `empty`: no partners at all. `seeded`: a demo seeding finished. `incomplete`:
 * one started and never finished (interrupted, or failed halfway).
 * `other`: the operator's own partners, no demo.
 */
export type DemoSeedState = 'empty' | 'seeded' | 'incomplete' | 'other';

export async function demoSeedState(db: Database): Promise<DemoSeedState> {
  const [row] = await db.query<{ partners: number; demo: number }>(
    'SELECT count(*)::int AS partners, (count(*) FILTER (WHERE id = ANY($1::text[])))::int AS demo FROM partners',
    [DEMO_PARTNERS.map((p) => p.clientId)],
  );
  if (!row?.demo) return row?.partners ? 'other' : 'empty';
  const [finished] = await db.query('SELECT 1 FROM audit_events WHERE kind = $1 LIMIT 1', [DEMO_SEEDED]);
  return finished ? 'seeded' : 'incomplete';
}

export class DemoSeedIncompleteError extends Error {
  constructor() {
    super(
      'The demo data in this database is incomplete: an earlier seeding stopped halfway. ' +
        'Seed into an empty database: remove the data directory (CONSENTRY_DATA_DIR, ./data by default) or use a fresh DATABASE_URL.',
    );
  }
}

export interface SeedResult {
  directory: string;
  /** False when the demo partners were already there; nothing was changed then. */
  seeded: boolean;
  partners: { clientId: string; name: string; folder: string }[];
  subjects: number;
  consents: number;
}

/**
 * Seeds demo partners (each with a fresh ES256 key pair whose private half is
 * written to `config.demoDir`), ~300 subjects with deterministic score
 * summaries, and consents chosen so a newcomer's first query shows released
 * and denied fields. A database that already holds the demo partners is left
 * as it is: their keys were written when they were first seeded.
 */
export async function seedDemo(services: Services): Promise<SeedResult> {
  const { config, db } = services;
  const partners = DEMO_PARTNERS.map((p) => ({ clientId: p.clientId, name: p.name, folder: p.slug }));
  const state = await demoSeedState(db);
  if (state === 'seeded') return { directory: config.demoDir, seeded: false, partners, subjects: 0, consents: 0 };
  if (state === 'incomplete') throw new DemoSeedIncompleteError();

  const credentials = await Promise.all(DEMO_PARTNERS.map(demoCredential));
  // Keys are written before the partners exist, so a failed write never leaves a partner nobody can sign for.
  const directory = await writeDemoCredentials(config.demoDir, config.issuer, credentials);
  for (const c of credentials) {
    await registerPartner(
      services,
      {
        id: c.partner.clientId,
        name: c.partner.name,
        industry: c.partner.industry,
        contact: c.partner.contact,
        scopes: c.partner.scopes,
        purposes: c.partner.purposes,
        jwks: { keys: [{ ...publicHalf(c.privateJwk), use: 'sig' }] },
        redirectUris: c.partner.redirectUris,
      },
      SEED_ACTOR,
    );
  }

  const summaries = demoScoreSummaries(DEMO_SUBJECT_COUNT, services.clock());
  await db.transaction((tx) => upsertScoreSummaries(tx, summaries));

  const consents = [...WALKTHROUGH_CONSENTS, ...backgroundConsents(DEMO_SUBJECT_COUNT, seededRandom(7))];
  const deps = { ...services, issuer: config.issuer };
  // Subjects side by side, each subject's consents in order (a later one may supersede an earlier): the
  // statements of several grants overlap instead of each waiting for the last, which is most of a cold start's seeding.
  const bySubject = new Map<string, typeof consents>();
  for (const c of consents) bySubject.set(c.subjectId, [...(bySubject.get(c.subjectId) ?? []), c]);
  await Promise.all(
    [...bySubject.values()].map(async (ofSubject) => {
      for (const c of ofSubject) {
        await grantConsent(deps, {
          subjectId: c.subjectId,
          partnerId: c.clientId,
          purpose: c.purpose,
          categories: c.categories,
          durationDays: c.days,
          channel: 'cli',
          actor: SEED_ACTOR,
        });
      }
    }),
  );
  // Written last: its presence is what says the demo data is whole.
  await services.auditLog.append([
    {
      kind: DEMO_SEEDED,
      at: services.clock(),
      actorType: SEED_ACTOR.type,
      actorId: SEED_ACTOR.id,
      details: { partners: credentials.length, subjects: summaries.length, consents: consents.length },
    },
  ]);
  return { directory, seeded: true, partners, subjects: summaries.length, consents: consents.length };
}

async function demoCredential(partner: DemoPartner): Promise<DemoCredential> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = `${partner.slug}-1`;
  return { partner, kid, privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'ES256' } };
}

function publicHalf(jwk: DemoCredential['privateJwk']) {
  const { d: _d, ...rest } = jwk;
  return rest;
}

export function registerSeedDemo(program: Command): void {
  program
    .command('seed-demo')
    .description('create demo partners, subjects, scores and consents; prints where the demo credentials are')
    .option('--json', 'machine-readable output')
    .action((opts: { json?: boolean }) =>
      runCommand(opts.json, async (io) => {
        const result = await withServices(seedDemo);
        printResult(io, !!opts.json, result, describeSeed(result));
      }),
    );
}

function describeSeed(r: SeedResult): string {
  if (!r.seeded) {
    return `The database already holds the demo partners; nothing was changed.\nTheir credentials were written to ${r.directory} when they were first seeded.`;
  }
  return [
    `Seeded ${r.partners.length} demo partners, ${r.subjects} subjects and ${r.consents} consents.`,
    `Demo credentials (private keys, partner.json, query.mjs): ${r.directory}`,
    ...r.partners.map((p) => `  ${p.folder.padEnd(26)} ${p.clientId}`),
    `Try: node ${r.directory}/${r.partners[0]!.folder}/query.mjs   (walkthrough subject: ${DEMO_SUBJECT})`,
  ].join('\n');
}
