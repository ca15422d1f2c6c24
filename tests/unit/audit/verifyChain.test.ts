import { CompactSign, exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { GENESIS_HASH, linkEvents, type AuditEvent } from '../../../src/audit/chain.js';
import type { StoredCheckpoint } from '../../../src/audit/checkpoints.js';
import { verifyChain, type ChainExtent } from '../../../src/audit/verifyChain.js';

const at = new Date('2026-03-01T00:00:00.000Z');
const chain = linkEvents(
  Array.from({ length: 10 }, (_, i) => ({ kind: 'access', at: new Date(at.getTime() + i * 1000), actorType: 'partner' as const, actorId: 'p', partnerId: 'p', subjectId: `s${i}`, released: ['score.band'] })),
  { seq: 0n, hash: GENESIS_HASH },
);

async function* stream(events: AuditEvent[]): AsyncGenerator<AuditEvent> {
  yield* events;
}

let gatewayKeys: { keys: object[] };
let sign: (seq: string, headHash: string, key?: CryptoKey) => Promise<StoredCheckpoint>;
let strangerKey: CryptoKey;

beforeAll(async () => {
  const gateway = await generateKeyPair('ES256');
  const stranger = await generateKeyPair('ES256');
  gatewayKeys = { keys: [{ ...(await exportJWK(gateway.publicKey)), kid: 'k1', alg: 'ES256' }] };
  strangerKey = stranger.privateKey;
  sign = async (seq, headHash, key = gateway.privateKey) => ({
    seq,
    headHash,
    at: at.toISOString(),
    kid: 'k1',
    jws: await new CompactSign(new TextEncoder().encode(JSON.stringify({ seq, headHash, at: at.toISOString(), issuer: 'http://gw' })))
      .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'audit-checkpoint+jws' })
      .sign(key),
  });
});

const at5 = () => chain[4]!;
const swap = (events: AuditEvent[], i: number, j: number) => events.map((e, k) => (k === i ? events[j]! : k === j ? events[i]! : e));

describe('verifyChain', () => {
  it.each<[string, () => Promise<{ events: AuditEvent[]; checkpoints: StoredCheckpoint[]; extent?: ChainExtent }>, string | null, string | null]>([
    ['an intact chain', async () => ({ events: chain, checkpoints: [await sign('5', at5().hash), await sign('10', chain[9]!.hash)] }), null, null],
    ['a changed field', async () => ({ events: chain.map((e) => (e.seq === '4' ? { ...e, subjectId: 'other' } : e)), checkpoints: [] }), '4', 'HASH_MISMATCH'],
    ['a deleted event', async () => ({ events: chain.filter((e) => e.seq !== '4'), checkpoints: [] }), '4', 'SEQ_GAP'],
    ['two swapped lines', async () => ({ events: swap(chain, 3, 4), checkpoints: [] }), '4', 'SEQ_GAP'],
    ['a repeated event', async () => ({ events: [...chain.slice(0, 4), chain[2]!, ...chain.slice(4)], checkpoints: [] }), '3', 'SEQ_ORDER'],
    ['a tail cut after a checkpoint', async () => ({ events: chain.slice(0, 7), checkpoints: [await sign('10', chain[9]!.hash)] }), '8', 'TRUNCATED'],
    ['a checkpoint by another key', async () => ({ events: chain, checkpoints: [await sign('5', at5().hash, strangerKey)] }), '5', 'CHECKPOINT_SIGNATURE'],
    ['a checkpoint that disagrees', async () => ({ events: chain, checkpoints: [await sign('5', chain[3]!.hash)] }), '5', 'CHECKPOINT_MISMATCH'],
    ['a range starting mid-chain', async () => ({ events: chain.slice(3), checkpoints: [], extent: 'range' }), null, null],
    ['a complete log missing its start', async () => ({ events: chain.slice(3), checkpoints: [] }), '1', 'SEQ_GAP'],
    ['a filtered selection', async () => ({ events: chain.filter((e) => Number(e.seq) % 3 === 0), checkpoints: [], extent: 'filtered' }), null, null],
    ['a filtered selection with an edit', async () => ({ events: chain.filter((e) => Number(e.seq) % 3 === 0).map((e) => (e.seq === '6' ? { ...e, purpose: 'x' } : e)), checkpoints: [], extent: 'filtered' }), '6', 'HASH_MISMATCH'],
  ])('%s', async (_name, make, seq, code) => {
    const { events, checkpoints, extent } = await make();
    const result = await verifyChain(stream(events), checkpoints, { extent: extent ?? 'complete', jwks: gatewayKeys as never });
    expect(result.ok).toBe(seq === null);
    expect(result.problem ? [result.problem.seq, result.problem.code] : null).toEqual(seq === null ? null : [seq, code]);
  });

  it('counts what it checked and names the head', async () => {
    const result = await verifyChain(stream(chain), [await sign('10', chain[9]!.hash)], { extent: 'complete', jwks: gatewayKeys as never });
    expect(result).toEqual({ ok: true, eventsChecked: 10, firstSeq: '1', head: { seq: '10', hash: chain[9]!.hash }, checkpointsChecked: 1 });
  });
});
