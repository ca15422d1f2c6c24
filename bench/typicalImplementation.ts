/**
 * The second baseline: what a team would build without Consentry. Apollo
 * Server 5 on Fastify with Consentry's SDL, jose verifying every access token
 * against the gateway's JWKS, one consent query and one score query per
 * request in PostgreSQL (the same database and rows Consentry reads), a
 * check in every field resolver, and one audit row inserted before the answer
 * is sent. No hash chain, no group commit, no caching. Started by bench/run.ts
 * with DATABASE_URL, JWKS_URL and ISSUER.
 */
import fastifyApollo from '@as-integrations/fastify';
import { ApolloServer } from '@apollo/server';
import { makeExecutableSchema } from '@graphql-tools/schema';
import Fastify from 'fastify';
import { GraphQLError } from 'graphql';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import pg from 'pg';
import { loadTypeDefs } from '../src/gateway/buildSchema.js';
import { scalarResolvers } from '../src/resolvers/scalars.js';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
const jwks = createRemoteJWKSet(new URL(process.env.JWKS_URL!));
const issuer = process.env.ISSUER!;
await pool.query(`CREATE TABLE IF NOT EXISTS typical_audit_log (
  id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), partner_id text NOT NULL,
  subject_ids text[] NOT NULL, purpose text NOT NULL, categories text[] NOT NULL)`);

interface Ctx {
  partnerId: string;
  scopes: Set<string>;
}

interface Row {
  id: string;
  categories: Set<string>;
  summary: Record<string, unknown> | null;
}

const denied = (category: string) => new GraphQLError(`Consent required for ${category}`, { extensions: { code: 'CONSENT_REQUIRED', category } });

/** The per-field check: the token's scope and the subject's consent. */
function field(category: string, read: (s: Row, args: Record<string, unknown>) => unknown) {
  return (s: Row, args: Record<string, unknown>, ctx: Ctx) => {
    if (!ctx.scopes.has(category) || !s.categories.has(category)) throw denied(category);
    return read(s, args);
  };
}

async function load(ctx: Ctx, ids: string[], purpose: string): Promise<Row[]> {
  const consents = await pool.query<{ subject_id: string; categories: string[] }>(
    `SELECT subject_id, categories FROM consents
     WHERE partner_id = $1 AND subject_id = ANY($2) AND purpose = $3 AND revoked_at IS NULL AND expires_at > now()`,
    [ctx.partnerId, ids, purpose],
  );
  const scores = await pool.query<Record<string, unknown> & { id: string }>(
    `SELECT s.id, s.identity_verified, s.identity_level, s.identity_verified_at, ss.value, ss.band, ss.dimensions,
            ss.factors, ss.history, ss.as_of, ss.model
     FROM subjects s LEFT JOIN score_summaries ss ON ss.subject_id = s.id WHERE s.id = ANY($1)`,
    [ids],
  );
  const categories = new Map<string, Set<string>>();
  for (const c of consents.rows) for (const cat of c.categories) (categories.get(c.subject_id) ?? categories.set(c.subject_id, new Set()).get(c.subject_id)!).add(cat);
  const summaries = new Map(scores.rows.map((r) => [r.id, r]));
  const rows = ids.map((id) => ({ id, categories: categories.get(id) ?? new Set<string>(), summary: summaries.get(id) ?? null }));
  await pool.query('INSERT INTO typical_audit_log (partner_id, subject_ids, purpose, categories) VALUES ($1, $2, $3, $4)', [
    ctx.partnerId,
    ids,
    purpose,
    [...new Set(rows.flatMap((r) => [...r.categories]))],
  ]);
  return rows;
}

const resolvers = {
  ...scalarResolvers,
  Query: {
    subject: async (_: unknown, a: { id: string; purpose: string }, ctx: Ctx) => (await load(ctx, [a.id], a.purpose))[0],
    subjects: (_: unknown, a: { ids: string[]; purpose: string }, ctx: Ctx) => load(ctx, a.ids, a.purpose),
  },
  Subject: {
    score: (s: Row) => (s.summary?.value == null ? null : s),
    identity: field('identity.verified', (s) => ({
      verified: s.summary!.identity_verified,
      level: s.summary!.identity_level,
      verifiedAt: s.summary!.identity_verified_at,
    })),
  },
  ScoreSummary: {
    atLeast: field('score.threshold', (s, a) => (s.summary!.value as number) >= (a.threshold as number)),
    band: field('score.band', (s) => s.summary!.band),
    value: field('score.value', (s) => s.summary!.value),
    dimensions: field('score.dimensions', (s) => s.summary!.dimensions),
    factors: field('score.factors', (s) => s.summary!.factors),
    history: field('score.history', (s, a) => (s.summary!.history as unknown[]).slice(0, a.months as number)),
    asOf: (s: Row) => s.summary!.as_of,
    model: (s: Row) => s.summary!.model,
  },
};

const apollo = new ApolloServer<Ctx>({ schema: makeExecutableSchema({ typeDefs: loadTypeDefs(), resolvers }) });
await apollo.start();
const app = Fastify();
await app.register(fastifyApollo(apollo), {
  context: async (request): Promise<Ctx> => {
    const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    try {
      const { payload } = await jwtVerify(token ?? '', jwks, { issuer, audience: issuer, typ: 'at+jwt' });
      return { partnerId: String(payload.sub), scopes: new Set(String(payload.scope ?? '').split(' ')) };
    } catch {
      throw new GraphQLError('Unauthenticated', { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
    }
  },
});
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
process.stdout.write('ready\n');
process.once('SIGTERM', () => void app.close().then(() => pool.end()).finally(() => process.exit(0)));
