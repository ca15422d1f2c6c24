import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../../src/cli/seedDemo.js';
import { startGateway, type TestGateway } from '../fixtures/gateway.js';
import { STORE_KINDS } from '../fixtures/stores.js';

const run = promisify(execFile);

/**
 * The demo credentials' query.mjs is what a newcomer runs first: it must get a
 * token with the private key and show released and denied fields. The folder
 * sits under the project's (git-ignored) demo-credentials directory, as the
 * default one does, so the script finds `jose` in the project's node_modules.
 */
describe.each(STORE_KINDS)("seed-demo's query.mjs against a running gateway on %s", (kind) => {
  let gw: TestGateway;
  let demoDir: string;

  beforeAll(async () => {
    await mkdir('demo-credentials', { recursive: true });
    demoDir = resolve(await mkdtemp(join('demo-credentials', '.test-')));
    gw = await startGateway(kind, { env: { CONSENTRY_DEMO_DIR: demoDir } });
    const result = await seedDemo(gw.services);
    expect(result.directory).toBe(demoDir);
  });
  afterAll(async () => {
    await gw?.close();
    await rm(demoDir, { recursive: true, force: true });
  });

  const query = async (folder: string) => {
    const { stdout, stderr } = await run(process.execPath, [join(demoDir, folder, 'query.mjs')], {
      env: { ...process.env, CONSENTRY_URL: gw.url },
    });
    return { response: JSON.parse(stdout) as { data: any; errors?: { path: (string | number)[]; extensions: { code: string } }[] }, stderr };
  };
  const denials = (errors: { path: (string | number)[]; extensions: { code: string } }[] = []) =>
    errors.map((e) => [e.path.join('.'), e.extensions.code]);

  it('the car-rental firm learns the deposit can be waived, and nothing more', async () => {
    const { response, stderr } = await query('swift-wheels-car-rental');
    expect(stderr).toContain('Access token for Swift Wheels Car Rental (p_demo_swift_wheels), scope "score.threshold", valid 900 s.');
    expect(response.data).toEqual({ subject: { id: 'demo-subject-1', score: { waiveDeposit: true, band: null, asOf: expect.any(String) } } });
    expect(denials(response.errors)).toEqual([['subject.score.band', 'INSUFFICIENT_SCOPE']]);
  });

  it('the lender sees the consented categories; the others are denied for want of consent', async () => {
    const { response } = await query('northbridge-lending');
    expect(response.data.subject.score).toMatchObject({ value: 712, band: 'EXCELLENT', dimensions: null, history: null, model: 'consentry-demo-2026.1' });
    expect(response.data.subject.score.factors.length).toBeGreaterThanOrEqual(2);
    expect(denials(response.errors)).toEqual([
      ['subject.score.dimensions', 'CONSENT_REQUIRED'],
      ['subject.score.history', 'CONSENT_REQUIRED'],
    ]);
  });

  it('the hotel gets the band of the guest who consented and not of the one who did not', async () => {
    const { response } = await query('harbourview-hotels');
    expect(response.data.subjects).toEqual([
      { id: 'demo-subject-1', score: { band: null, asOf: null } },
      { id: 'demo-subject-2', score: { band: expect.stringMatching(/^(POOR|FAIR|GOOD|VERY_GOOD|EXCELLENT)$/), asOf: expect.any(String) } },
    ]);
    expect(denials(response.errors).every(([path, code]) => path.startsWith('subjects.0.') && code === 'CONSENT_REQUIRED')).toBe(true);
  });

  it('the dating site sees identity verification only', async () => {
    const { response } = await query('kindred-match');
    expect(response.data.subject.identity).toMatchObject({ verified: true });
    expect(denials(response.errors)).toEqual([['subject.score.band', 'INSUFFICIENT_SCOPE']]);
  });
});
