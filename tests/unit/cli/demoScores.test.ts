import { describe, expect, it } from 'vitest';
import { DEMO_PARTNERS, WALKTHROUGH_CONSENTS, backgroundConsents } from '../../../src/cli/demo/demoPartners.js';
import { demoScoreSummaries, seededRandom } from '../../../src/cli/demo/demoScores.js';
import { parseScoreImportLine } from '../../../src/store/scoreImportLine.js';
import { scoreBand } from '../../../src/policy/scoreBand.js';

const NOW = new Date('2026-07-15T12:00:00Z');

describe('demo score summaries', () => {
  const summaries = demoScoreSummaries(300, NOW);

  it('are the same on every run', () => {
    expect(demoScoreSummaries(300, NOW)).toEqual(summaries);
  });

  it('are valid import lines: every summary passes the importer', () => {
    for (const s of summaries) {
      const line = JSON.stringify({ ...s, asOf: s.asOf.toISOString(), identity: { ...s.identity, verifiedAt: s.identity?.verifiedAt?.toISOString() ?? null } });
      expect(parseScoreImportLine(line)).toMatchObject({ ok: true });
    }
  });

  it('look like a population: every band, most identities verified, 2-4 factors, 12-24 months newest first', () => {
    expect(new Set(summaries.map((s) => s.band))).toEqual(new Set(['POOR', 'FAIR', 'GOOD', 'VERY_GOOD', 'EXCELLENT']));
    const verified = summaries.filter((s) => s.identity?.verified).length;
    expect(verified / summaries.length).toBeGreaterThan(0.75);
    for (const s of summaries) {
      expect(s.band).toBe(scoreBand(s.value));
      expect(s.factors.length).toBeGreaterThanOrEqual(2);
      expect(s.factors.length).toBeLessThanOrEqual(4);
      expect(s.history.length).toBeGreaterThanOrEqual(12);
      expect(s.history.length).toBeLessThanOrEqual(24);
      expect(s.history.map((h) => h.month)).toEqual([...s.history.map((h) => h.month)].sort().reverse());
      expect(s.asOf.getTime()).toBeLessThan(NOW.getTime());
    }
  });

  it('fix the walkthrough subject', () => {
    expect(summaries[0]).toMatchObject({ subjectId: 'demo-subject-1', value: 712, band: 'EXCELLENT', identity: { verified: true } });
  });
});

describe('demo consents', () => {
  it('stay within each partner\'s scopes and purposes', () => {
    const byId = new Map(DEMO_PARTNERS.map((p) => [p.clientId, p]));
    for (const c of [...WALKTHROUGH_CONSENTS, ...backgroundConsents(300, seededRandom(7))]) {
      const partner = byId.get(c.clientId)!;
      expect(partner.purposes).toContain(c.purpose);
      for (const category of c.categories) expect(partner.scopes).toContain(category);
      expect(c.days).toBeGreaterThanOrEqual(1);
      expect(c.days).toBeLessThanOrEqual(365);
    }
  });
});
