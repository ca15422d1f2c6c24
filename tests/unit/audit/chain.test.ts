import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../src/audit/canonical.js';
import { canonicalEventJson, eventHash, GENESIS_HASH, linkEvents } from '../../../src/audit/chain.js';

describe('canonicalJson', () => {
  it.each([
    [{ b: 1, a: [3, { d: null, c: 'x' }] }, '{"a":[3,{"c":"x","d":null}],"b":1}'],
    [{ z: undefined, y: 'é"\n' }, '{"y":"é\\"\\n"}'],
    [[], '[]'],
    ['s', '"s"'],
    [{ B: 1, a: 2, _: 3 }, '{"B":1,"_":3,"a":2}'],
  ])('%j → %s', (value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
  });

  it('refuses numbers that are not safe integers', () => {
    expect(() => canonicalJson({ x: 1.5 })).toThrow(TypeError);
  });
});

describe('linkEvents', () => {
  const at = new Date('2026-01-02T03:04:05.678Z');
  const inputs = [
    { kind: 'access', at, actorType: 'partner' as const, actorId: 'p1', subjectId: 's1', released: ['score.band'] },
    { kind: 'consent.revoked', at, actorType: 'subject' as const, actorId: 's1', consentIds: ['c1'] },
  ];

  it('numbers events after the head and links each to the one before', () => {
    const [a, b] = linkEvents(inputs, { seq: 41n, hash: 'f'.repeat(64) });
    expect(a).toMatchObject({ seq: '42', prevHash: 'f'.repeat(64), at: '2026-01-02T03:04:05.678Z', denied: [], details: {} });
    expect(b).toMatchObject({ seq: '43', prevHash: a!.hash });
  });

  it('hashes the canonical encoding: any change to any member changes the hash', () => {
    const [event] = linkEvents(inputs, { seq: 0n, hash: GENESIS_HASH });
    const { hash, ...unhashed } = event!;
    expect(eventHash(unhashed)).toBe(hash);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    for (const tampered of [
      { ...unhashed, released: [] },
      { ...unhashed, seq: '2' },
      { ...unhashed, at: '2026-01-02T03:04:05.679Z' },
      { ...unhashed, prevHash: '1'.repeat(64) },
    ]) {
      expect(eventHash(tampered)).not.toBe(hash);
    }
  });
});

describe('canonicalEventJson', () => {
  it('writes exactly what the general canonical encoder writes for an event', () => {
    const events = linkEvents(
      [
        { kind: 'access', at: new Date(0), actorType: 'partner', actorId: 'p"1', partnerId: 'p"1', subjectId: 'ü\n', purpose: 'x',
          requestId: 'r', released: ['score.band', 'score.value'], denied: [{ code: 'CONSENT_REQUIRED', category: 'score.factors' }],
          consentIds: ['c1', 'c2'], details: { z: [1, { b: null, a: 'é' }], a: true } },
        { kind: 'key.rotated', at: new Date(1), actorType: 'operator' },
      ],
      { seq: 9n, hash: GENESIS_HASH },
    );
    for (const { hash: _hash, ...event } of events) expect(canonicalEventJson(event)).toBe(canonicalJson(event));
  });
});
