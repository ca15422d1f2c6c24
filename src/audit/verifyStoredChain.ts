import type { SigningKeys } from '../auth/signingKeys.js';
import type { Database } from '../store/database.js';
import { checkpointsInRange } from './checkpoints.js';
import { readChainHead, streamEvents } from './storedEvents.js';
import { verifyChain, type ChainVerification } from './verifyChain.js';

/**
 * Verifies the live log from genesis against every key the gateway ever
 * signed with. Checkpoints are read before the head and the walk stops at the
 * head, so events and checkpoints written meanwhile are left for the next run
 * instead of looking like tampering, while a checkpoint beyond a cut-off tail
 * (even with the head row rolled back) is still seen.
 */
export async function verifyStoredChain(deps: { db: Database; keys: SigningKeys }): Promise<ChainVerification> {
  const [checkpoints, jwks] = await Promise.all([checkpointsInRange(deps.db), deps.keys.allPublicKeys()]);
  const recordedHead = await readChainHead(deps.db);
  return verifyChain(streamEvents(deps.db, { throughSeq: recordedHead.seq }), checkpoints, { extent: 'complete', jwks, recordedHead });
}
