import { compactVerify, createLocalJWKSet, type JSONWebKeySet } from 'jose';
import { SIGNING_ALG } from '../auth/signingKeys.js';
import { GENESIS_HASH, eventHash, type AuditEvent } from './chain.js';
import { CHECKPOINT_TYPE, type CheckpointPayload, type StoredCheckpoint } from './checkpoints.js';

/** What can be wrong with a chain; stable codes for programs, messages for people. */
export type ChainProblemCode =
  | 'MALFORMED_EVENT'
  | 'HASH_MISMATCH'
  | 'PREV_HASH_MISMATCH'
  | 'SEQ_GAP'
  | 'SEQ_ORDER'
  | 'CHECKPOINT_SIGNATURE'
  | 'CHECKPOINT_MISMATCH'
  | 'TRUNCATED'
  | 'HEAD_MISMATCH';

export interface ChainProblem {
  code: ChainProblemCode;
  /** The first sequence number that is missing, altered or out of place. */
  seq: string;
  message: string;
}

export interface ChainVerification {
  ok: boolean;
  eventsChecked: number;
  firstSeq: string | null;
  /** The last event checked. */
  head: { seq: string; hash: string } | null;
  checkpointsChecked: number;
  problem?: ChainProblem;
}

/**
 * complete: the whole chain from seq 1 (genesis) — a checkpoint beyond the
 * last event means the tail was cut off. range: a contiguous stretch; its first
 * event's prevHash is taken on trust. filtered: a selection; each event's own
 * hash is checked, links only between consecutive seqs.
 */
export type ChainExtent = 'complete' | 'range' | 'filtered';

export interface VerifyOptions {
  extent: ChainExtent;
  /** The keys checkpoints must be signed with (the published JWKS, or every key the gateway ever had). */
  jwks: JSONWebKeySet;
  /** The head the writer recorded, when verifying the live store. */
  recordedHead?: { seq: string; hash: string };
}

interface CheckedCheckpoint {
  seq: bigint;
  /** Set when the JWS verifies and its payload agrees with the stored row. */
  payload?: CheckpointPayload;
  failure?: string;
}

/**
 * Verifies an audit chain: recomputes every hash in seq order, follows every
 * prevHash link and holds the events against signed checkpoints. Pure over its
 * inputs, so the live store and an export file are checked by the same code;
 * the events arrive as a stream, so memory stays flat however long the chain.
 * Stops at the first problem.
 */
export async function verifyChain(
  events: AsyncIterable<AuditEvent>,
  checkpoints: readonly StoredCheckpoint[],
  options: VerifyOptions,
): Promise<ChainVerification> {
  const bySeq = await checkCheckpoints(checkpoints, options.jwks);
  const result: ChainVerification = { ok: true, eventsChecked: 0, firstSeq: null, head: null, checkpointsChecked: 0 };
  const fail = (code: ChainProblemCode, seq: bigint, message: string): ChainVerification => ({
    ...result,
    ok: false,
    problem: { code, seq: seq.toString(), message },
  });

  let prev: { seq: bigint; hash: string } | undefined = options.extent === 'complete' ? { seq: 0n, hash: GENESIS_HASH } : undefined;
  for await (const event of events) {
    const expected = prev ? prev.seq + 1n : undefined;
    if (typeof event?.seq !== 'string' || !/^[1-9]\d{0,18}$/.test(event.seq) || typeof event.hash !== 'string') {
      return fail('MALFORMED_EVENT', expected ?? 0n, `An event after seq ${prev?.seq ?? 0n} has no valid seq or hash.`);
    }
    const seq = BigInt(event.seq);
    if (prev && seq <= prev.seq) {
      return fail('SEQ_ORDER', seq, `Event ${seq} appears after event ${prev.seq}: events are out of order or repeated.`);
    }
    if (expected !== undefined && seq !== expected && options.extent !== 'filtered') {
      return fail('SEQ_GAP', expected, `Expected event ${expected}, found ${seq}: events ${expected}..${seq - 1n} are missing or out of order.`);
    }
    if (eventHash(event) !== event.hash) {
      return fail('HASH_MISMATCH', seq, `Event ${seq} does not match its hash: a field was changed after it was written.`);
    }
    if (prev && seq === prev.seq + 1n && event.prevHash !== prev.hash) {
      return fail('PREV_HASH_MISMATCH', seq, `Event ${seq} does not link to event ${prev.seq}: an event was removed, inserted or moved.`);
    }
    for (const cp of bySeq.get(seq) ?? []) {
      if (!cp.payload) return fail('CHECKPOINT_SIGNATURE', seq, `The checkpoint at ${seq} is not valid: ${cp.failure}`);
      if (cp.payload.headHash !== event.hash) {
        return fail('CHECKPOINT_MISMATCH', seq, `Event ${seq} differs from what the signed checkpoint at ${seq} recorded: the chain was rewritten.`);
      }
      result.checkpointsChecked++;
    }
    prev = { seq, hash: event.hash };
    result.firstSeq ??= event.seq;
    result.head = { seq: event.seq, hash: event.hash };
    result.eventsChecked++;
  }

  const last = prev?.seq ?? 0n;
  if (options.extent === 'complete') {
    const beyond = [...bySeq.values()].flat().filter((cp) => cp.seq > last).sort((a, b) => (a.seq < b.seq ? -1 : 1));
    const forged = beyond.find((cp) => !cp.payload);
    if (forged) return fail('CHECKPOINT_SIGNATURE', forged.seq, `The checkpoint at ${forged.seq} is not valid: ${forged.failure}`);
    if (beyond.length) {
      return fail('TRUNCATED', last + 1n, `The chain ends at ${last} but a signed checkpoint vouches for event ${beyond.at(-1)!.seq}: events from ${last + 1n} were removed.`);
    }
  }
  const recorded = options.recordedHead;
  if (recorded) {
    const headSeq = BigInt(recorded.seq);
    if (headSeq > last) return fail('TRUNCATED', last + 1n, `The chain ends at ${last} but the log's head is ${headSeq}: events from ${last + 1n} were removed.`);
    if (headSeq === last && recorded.hash !== (prev?.hash ?? GENESIS_HASH)) {
      return fail('HEAD_MISMATCH', last, `The log's head hash differs from event ${last}.`);
    }
  }
  return result;
}

/** Verifies every checkpoint's signature and payload up front, indexed by the seq it vouches for. */
async function checkCheckpoints(checkpoints: readonly StoredCheckpoint[], jwks: JSONWebKeySet): Promise<Map<bigint, CheckedCheckpoint[]>> {
  const keySet = createLocalJWKSet(jwks);
  const bySeq = new Map<bigint, CheckedCheckpoint[]>();
  for (const cp of checkpoints) {
    const checked = await checkCheckpoint(cp, keySet);
    bySeq.set(checked.seq, [...(bySeq.get(checked.seq) ?? []), checked]);
  }
  return bySeq;
}

async function checkCheckpoint(cp: StoredCheckpoint, keySet: ReturnType<typeof createLocalJWKSet>): Promise<CheckedCheckpoint> {
  const seq = /^\d{1,19}$/.test(String(cp.seq)) ? BigInt(cp.seq) : 0n;
  let verified;
  try {
    verified = await compactVerify(String(cp.jws), keySet, { algorithms: [SIGNING_ALG] });
  } catch {
    return { seq, failure: 'it is not signed by a published gateway key.' };
  }
  if (verified.protectedHeader.typ !== CHECKPOINT_TYPE) return { seq, failure: `its JWS is not an audit checkpoint (typ ${CHECKPOINT_TYPE}).` };
  let payload: CheckpointPayload;
  try {
    payload = JSON.parse(new TextDecoder().decode(verified.payload)) as CheckpointPayload;
  } catch {
    return { seq, failure: 'its payload is not JSON.' };
  }
  if (payload.seq !== String(cp.seq) || payload.headHash !== cp.headHash) {
    return { seq, failure: `its stored seq or head hash differs from what was signed (seq ${payload.seq}).` };
  }
  return { seq, payload };
}
