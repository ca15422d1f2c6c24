import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServices, type Services } from '../../src/services.js';
import { openTestStore, type TestStore } from '../fixtures/stores.js';

describe('gateway tokens', () => {
  let store: TestStore;
  let services: Services;
  let now = new Date('2026-03-01T10:00:00Z');

  beforeAll(async () => {
    store = await openTestStore('pglite');
    services = await createServices(store.config, { db: store.db, clock: () => now });
  });
  afterAll(() => store?.cleanup());

  it('accepts a token until it expires, also once it has been verified and remembered', async () => {
    const token = await services.tokens.issueAccessToken('p_1', ['score.band']);
    expect(await services.tokens.verify(token.token)).toEqual({
      kind: 'partner',
      partnerId: 'p_1',
      scopes: new Set(['score.band']),
      tokenId: expect.any(String),
    });
    now = new Date(now.getTime() + 14 * 60_000);
    expect((await services.tokens.verify(token.token)).kind).toBe('partner');
    now = new Date(now.getTime() + 61_000);
    await expect(services.tokens.verify(token.token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED', message: 'The token has expired.' });
  });

  it('keeps verifying tokens signed before a key rotation, and signs new ones with the new key', async () => {
    const before = await services.tokens.issueRoleToken('officer-1', ['compliance'], 600);
    const { kid, retiredKid } = await services.keys.rotate();
    expect(kid).not.toBe(retiredKid);
    const after = await services.tokens.issueRoleToken('officer-1', ['compliance'], 600);
    for (const t of [before, after]) expect(await services.tokens.verify(t)).toMatchObject({ kind: 'user', sub: 'officer-1' });
    expect((await services.keys.jwks()).keys.map((k) => k.kid).sort()).toEqual([kid, retiredKid].sort());
  });
});
