import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { writeCheckpoint } from '../../../src/audit/checkpoints.js';
import { STORE_KINDS } from '../../fixtures/stores.js';
import { runCli, sampleEvents, startAuditGateway, type AuditGateway } from './auditGateway.js';

vi.setConfig({ testTimeout: 180_000 });

async function chain(gw: AuditGateway, count: number, checkpointEvery: number): Promise<void> {
  const { services } = gw;
  const deps = { db: services.db, keys: services.keys, clock: services.clock, issuer: services.config.issuer };
  const batch = 10_000;
  for (let done = 0; done < count; done += batch) {
    const n = Math.min(batch, count - done);
    const events = sampleEvents(n, new Date(Date.UTC(2026, 2, 1) + done * 1000));
    for (let i = 0; i < n; i += checkpointEvery) {
      await services.auditLog.append(events.slice(i, i + checkpointEvery));
      await writeCheckpoint(deps);
    }
  }
}

function tempFile(name: string, content: string): string {
  const path = join(tmpdir(), `${process.pid}-${Date.now()}-${name}`);
  writeFileSync(path, content);
  return path;
}

describe.each(STORE_KINDS)('audit export on %s', (kind) => {
  let gw: AuditGateway;
  afterEach(() => gw?.cleanup());

  it('exports NDJSON that verifies offline, and CSV with one row per event', async () => {
    gw = await startAuditGateway(kind);
    await chain(gw, 50, 20);
    const jwks = tempFile('jwks.json', JSON.stringify(await (await fetch(`${gw.url}/.well-known/jwks.json`)).json()));
    await gw.stop();

    const ndjson = await runCli(['audit', 'export', '--format', 'ndjson'], gw.cliEnv);
    expect(ndjson).toMatchObject({ code: 0, stderr: '' });
    const lines = ndjson.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ type: 'header', format: 'consentry-audit-export', version: 1, extent: 'complete', hash: 'sha256' });
    expect(lines.filter((l) => l.type === 'checkpoint').map((l) => l.seq)).toEqual(['20', '40', '50']);
    expect(lines.filter((l) => l.type === 'event').map((l) => l.seq)).toEqual(Array.from({ length: 50 }, (_, i) => String(i + 1)));

    const file = tempFile('export.ndjson', ndjson.stdout);
    const verified = await runCli(['audit', 'verify', '--file', file, '--jwks', jwks, '--json'], {});
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, eventsChecked: 50, checkpointsChecked: 3, head: { seq: '50' } });

    // An edited line is caught offline too.
    const edited = ndjson.stdout.replace('"subjectId":"s_5"', '"subjectId":"s_6"');
    const bad = await runCli(['audit', 'verify', '--file', '-', '--jwks', jwks], {}, edited);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^Audit chain broken at seq 6 \(HASH_MISMATCH\)/);
    // So is a file whose tail was cut off after a checkpoint.
    const cut = ndjson.stdout.split('\n').slice(0, -6).join('\n');
    const truncated = await runCli(['audit', 'verify', '--file', '-', '--jwks', jwks, '--json'], {}, cut);
    expect(JSON.parse(truncated.stdout)).toMatchObject({ ok: false, problem: { code: 'TRUNCATED', seq: '46' } });

    const range = await runCli(['audit', 'export', '--format', 'ndjson', '--from', '2026-03-01T00:10:00Z', '--to', '2026-03-01T00:30:00Z'], gw.cliEnv);
    const rangeLines = range.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(rangeLines[0].extent).toBe('range');
    expect(rangeLines.filter((l) => l.type === 'event').map((l) => Number(l.seq))).toEqual(Array.from({ length: 20 }, (_, i) => i + 11));
    const rangeOk = await runCli(['audit', 'verify', '--file', '-', '--jwks', jwks], {}, range.stdout);
    expect(rangeOk.stdout).toMatch(/^Audit chain intact: 20 events checked, .*, 1 checkpoints checked\.\n$/);

    const csv = await runCli(['audit', 'export', '--format', 'csv'], gw.cliEnv);
    const rows = csv.stdout.trimEnd().split('\r\n');
    expect(rows[0]).toBe('seq,at,kind,actor,partnerId,subjectId,purpose,requestId,released,denied,consentIds,details,prevHash,hash');
    expect(rows).toHaveLength(51);
    expect(rows[1]).toMatch(/^1,2026-03-01T00:00:00\.000Z,access,partner:p_alpha,p_alpha,s_0,deposit_waiver,req-0,,score\.band:CONSENT_REQUIRED,,\{\},0{64},[0-9a-f]{64}$/);
  });

  it.runIf(kind === 'postgres')('exports and verifies 100,000 events offline', async () => {
    gw = await startAuditGateway(kind);
    await chain(gw, 100_000, 1000);
    const jwks = tempFile('jwks.json', JSON.stringify(await gw.services.keys.jwks()));
    await gw.stop();
    const file = join(tmpdir(), `${process.pid}-big-export.ndjson`);
    const exported = await runCli(['audit', 'export', '--format', 'ndjson'], gw.cliEnv);
    expect(exported.code).toBe(0);
    writeFileSync(file, exported.stdout);
    const verified = await runCli(['audit', 'verify', '--file', file, '--jwks', jwks, '--json'], {});
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, eventsChecked: 100_000, checkpointsChecked: 100, head: { seq: '100000' } });
  });
});
