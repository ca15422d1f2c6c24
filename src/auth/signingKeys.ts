import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type JWK, type CryptoKey } from 'jose';
import type { Clock } from '../clock.js';
import type { Database, Sql } from '../store/database.js';

export const SIGNING_ALG = 'ES256';

/**
 * How long a retired key stays published. It must outlive everything the key
 * signed that a third party may still check: access tokens (15 minutes) and
 * consent receipts (consents last at most 365 days).
 */
export const RETIRED_KEY_PUBLISHED_DAYS = 366;

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

interface GeneratedKey {
  kid: string;
  publicJwk: JWK;
  privateJwk: JWK;
}

function insertKey(sql: Sql, key: GeneratedKey, at: Date): Promise<unknown> {
  return sql.query('INSERT INTO signing_keys (kid, alg, private_jwk, public_jwk, created_at) VALUES ($1, $2, $3, $4, $5)', [
    key.kid,
    SIGNING_ALG,
    JSON.stringify(key.privateJwk),
    JSON.stringify(key.publicJwk),
    at,
  ]);
}

interface KeyRow {
  kid: string;
  private_jwk: JWK;
  public_jwk: JWK;
  created_at: Date;
  retired_at: Date | null;
}

/**
 * The gateway's own ES256 keys: tokens, consent receipts and audit checkpoints
 * are signed with the current one; retired ones stay published for verifiers.
 * Rotation may happen in another process (the CLI, a replica): signing checks
 * which key is current first, so a rotation takes effect with the next
 * signature; the published set is also reloaded periodically and whenever an
 * unknown `kid` is seen.
 */
export class SigningKeys {
  private current?: SigningKey;
  private published: JWK[] = [];
  private all = new Map<string, JWK>();
  private loadedAt = 0;

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly reloadEveryMs = 30_000,
  ) {}

  /** Loads the keys, creating the first one on a new database. */
  async load(): Promise<void> {
    let rows = await this.db.query<KeyRow>('SELECT * FROM signing_keys ORDER BY created_at');
    if (!rows.some((r) => r.retired_at === null)) {
      await this.create();
      rows = await this.db.query<KeyRow>('SELECT * FROM signing_keys ORDER BY created_at');
    }
    const active = rows.filter((r) => r.retired_at === null).at(-1)!;
    const horizon = this.clock().getTime() - RETIRED_KEY_PUBLISHED_DAYS * 86_400_000;
    this.current = {
      kid: active.kid,
      privateKey: (await importJWK(active.private_jwk, SIGNING_ALG)) as CryptoKey,
      publicJwk: active.public_jwk,
    };
    this.all = new Map(rows.map((r) => [r.kid, r.public_jwk]));
    this.published = rows
      .filter((r) => r.retired_at === null || new Date(r.retired_at).getTime() > horizon)
      .map((r) => r.public_jwk);
    this.loadedAt = Date.now();
  }

  /** The key to sign with now. */
  async signingKey(): Promise<SigningKey> {
    const [active] = await this.db.query<{ kid: string }>('SELECT kid FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC LIMIT 1');
    if (!this.current || active?.kid !== this.current.kid) await this.load();
    return this.current!;
  }

  /** The JWKS published at /.well-known/jwks.json. */
  async jwks(): Promise<{ keys: JWK[] }> {
    await this.refreshIfStale();
    return { keys: this.published };
  }

  /** A public key by `kid`, retired ones included (the gateway's own audit verification). */
  async publicKey(kid: string): Promise<JWK | undefined> {
    if (!this.all.has(kid)) await this.load();
    return this.all.get(kid);
  }

  /** Every public key the gateway ever used, for verifying old checkpoints. */
  async allPublicKeys(): Promise<{ keys: JWK[] }> {
    await this.load();
    return { keys: [...this.all.values()] };
  }

  /** Retires the current key and starts signing with a new one. Returns the new kid. */
  async rotate(): Promise<{ kid: string; retiredKid?: string }> {
    const key = await this.generate();
    // One transaction: another process never sees a moment without a current key (and creates one of its own).
    const retired = await this.db.transaction(async (tx) => {
      const rows = await tx.query<{ kid: string }>('UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL RETURNING kid', [this.clock()]);
      await insertKey(tx, key, this.clock());
      return rows;
    });
    await this.load();
    return { kid: key.kid, retiredKid: retired[0]?.kid };
  }

  private async create(): Promise<string> {
    const key = await this.generate();
    await insertKey(this.db, key, this.clock());
    return key.kid;
  }

  private async generate(): Promise<GeneratedKey> {
    const { privateKey, publicKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
    const kid = `${this.clock().toISOString().slice(0, 10)}-${randomUUID().slice(0, 8)}`;
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: SIGNING_ALG, use: 'sig' };
    const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: SIGNING_ALG };
    return { kid, publicJwk, privateJwk };
  }

  private async refreshIfStale(): Promise<void> {
    if (!this.current || Date.now() - this.loadedAt > this.reloadEveryMs) await this.load();
  }
}
