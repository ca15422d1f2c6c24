import { CompactSign } from 'jose';
import { SIGNING_ALG, type SigningKey, type SigningKeys } from '../auth/signingKeys.js';
import type { Clock } from '../clock.js';
import type { Database, Sql } from '../store/database.js';
import { readChainHead } from './storedEvents.js';

/** The JWS `typ` of a checkpoint, so it can never pass for a token or a consent receipt. */
export const CHECKPOINT_TYPE = 'audit-checkpoint+jws';

/** What a checkpoint's JWS payload holds: the gateway vouches that the chain head at `seq` was `headHash`. */
export interface CheckpointPayload {
  seq: string;
  headHash: string;
  at: string;
  issuer: string;
}

/** A checkpoint as stored and exported; only `jws` is evidence, the rest is an index into it. */
export interface StoredCheckpoint {
  seq: string;
  headHash: string;
  at: string;
  kid: string;
  jws: string;
}

export interface CheckpointDeps {
  db: Database;
  keys: SigningKeys;
  clock: Clock;
  issuer: string;
}

/**
 * Signs the current chain head and stores the checkpoint. Returns the latest
 * checkpoint (possibly an earlier one when nothing was appended since) or
 * undefined while the log is empty. Replicas racing for the same head store
 * it once.
 */
export async function writeCheckpoint(deps: CheckpointDeps): Promise<StoredCheckpoint | undefined> {
  const head = await readChainHead(deps.db);
  if (head.seq === '0') return undefined;
  const latest = await latestCheckpoint(deps.db);
  if (latest && BigInt(latest.seq) >= BigInt(head.seq)) return latest;
  await storeCheckpoint(deps.db, { ...deps, key: await deps.keys.signingKey() }, head);
  return (await latestCheckpoint(deps.db))!;
}

/** What signing a checkpoint takes: the key comes in, so signing inside a transaction needs no second connection. */
export interface CheckpointSigner {
  key: SigningKey;
  clock: Clock;
  issuer: string;
}

/**
 * Signs that the chain's event `at.seq` had hash `at.hash` and stores it, once
 * per seq whoever else stores the same one (the primary key, DO NOTHING).
 */
export async function storeCheckpoint(sql: Sql, signer: CheckpointSigner, at: { seq: string; hash: string }): Promise<StoredCheckpoint> {
  const { key } = signer;
  const payload: CheckpointPayload = { seq: at.seq, headHash: at.hash, at: signer.clock().toISOString(), issuer: signer.issuer };
  const jws = await new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: SIGNING_ALG, kid: key.kid, typ: CHECKPOINT_TYPE })
    .sign(key.privateKey);
  await sql.query(
    `INSERT INTO audit_checkpoints (seq, head_hash, at, kid, jws) VALUES ($1::bigint, $2, $3::timestamptz, $4, $5)
     ON CONFLICT (seq) DO NOTHING`,
    [payload.seq, payload.headHash, payload.at, key.kid, jws],
  );
  return { seq: payload.seq, headHash: payload.headHash, at: payload.at, kid: key.kid, jws };
}

interface CheckpointRow {
  seq: string;
  head_hash: string;
  at: Date | string;
  kid: string;
  jws: string;
}

const CHECKPOINT_COLUMNS = 'seq::text AS seq, head_hash, at, kid, jws';
const fromRow = (r: CheckpointRow): StoredCheckpoint => ({
  seq: r.seq,
  headHash: r.head_hash,
  at: new Date(r.at).toISOString(),
  kid: r.kid,
  jws: r.jws,
});

/** Checkpoints, latest first. */
export async function listCheckpoints(db: Sql, limit: number): Promise<StoredCheckpoint[]> {
  const rows = await db.query<CheckpointRow>(`SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints ORDER BY audit_checkpoints.seq DESC LIMIT $1`, [limit]);
  return rows.map(fromRow);
}

export async function latestCheckpoint(db: Sql): Promise<StoredCheckpoint | undefined> {
  return (await listCheckpoints(db, 1))[0];
}

/**
 * Checkpoints with seq in [first, last], ascending. One row per many events
 * (config.audit.checkpointEvery), so even a long log's checkpoints fit in memory.
 */
export async function checkpointsInRange(db: Sql, range: { first?: string; last?: string } = {}): Promise<StoredCheckpoint[]> {
  const rows = await db.query<CheckpointRow>(
    `SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints
     WHERE ($1::bigint IS NULL OR seq >= $1::bigint) AND ($2::bigint IS NULL OR seq <= $2::bigint) ORDER BY audit_checkpoints.seq`,
    [range.first ?? null, range.last ?? null],
  );
  return rows.map(fromRow);
}
