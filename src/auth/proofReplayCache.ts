import type { Redis } from 'ioredis';
import type { Database } from '../store/database.js';
import { rememberDpopProof } from '../store/usedDpopProofs.js';

/**
 * Where used DPoP proofs are remembered until they expire. Shared by every
 * replica (the database, or Redis when configured): a proof remembered only
 * in one process could be replayed against the next one.
 */
export interface ProofReplayCache {
  /** Records the key; false when it was already recorded and has not expired. */
  remember(proofKey: string, expiresAt: Date): Promise<boolean>;
}

export function databaseReplayCache(db: Database): ProofReplayCache {
  return { remember: (proofKey, expiresAt) => rememberDpopProof(db, proofKey, expiresAt) };
}

/** SET NX with an expiry: one round trip, atomic across replicas, and Redis forgets the key by itself. */
export function redisReplayCache(redis: Redis, clock: () => Date): ProofReplayCache {
  return {
    async remember(proofKey, expiresAt) {
      const ttlMs = Math.max(1, expiresAt.getTime() - clock().getTime());
      return (await redis.set(`consentry:dpop:${proofKey}`, '1', 'PX', ttlMs, 'NX')) === 'OK';
    },
  };
}
