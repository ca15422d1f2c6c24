import { describe, expect, it } from 'vitest';
import { consentStatus } from '../../../src/consent/subjectConsents.js';

const now = new Date('2026-11-24T12:00:00Z');
const at = (iso: string) => new Date(iso);

describe('consent status at a moment', () => {
  it.each([
    ['active until its end', { revokedAt: null, expiresAt: at('2026-11-24T12:00:01Z') }, 'ACTIVE'],
    ['expired exactly at its end', { revokedAt: null, expiresAt: at('2026-11-24T12:00:00Z') }, 'EXPIRED'],
    ['expired after its end', { revokedAt: null, expiresAt: at('2026-01-01T00:00:00Z') }, 'EXPIRED'],
    ['revoked before its end', { revokedAt: at('2026-11-01T00:00:00Z'), expiresAt: at('2027-01-01T00:00:00Z') }, 'REVOKED'],
    ['revoked, and its end since passed', { revokedAt: at('2026-01-01T00:00:00Z'), expiresAt: at('2026-02-01T00:00:00Z') }, 'REVOKED'],
  ] as const)('%s', (_name, consent, status) => {
    expect(consentStatus(consent, now)).toBe(status);
  });
});
