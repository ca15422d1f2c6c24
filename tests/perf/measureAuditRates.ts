/**
 * Measures audit export and verification rates (events/s) on PostgreSQL and
 * PGlite. Run by hand, not part of the suite:
 *   node --import tsx tests/perf/measureAuditRates.ts [events]
 * PostgreSQL comes from TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { exportAudit } from '../../src/audit/auditExport.js';
import { AuditLog } from '../../src/audit/auditLog.js';
import { writeCheckpoint } from '../../src/audit/checkpoints.js';
import { verifyStoredChain } from '../../src/audit/verifyStoredChain.js';
import { SigningKeys } from '../../src/auth/signingKeys.js';
import { systemClock } from '../../src/clock.js';
import { openDatabase, type Database } from '../../src/store/database.js';
import { sampleEvents } from '../integration/audit/auditGateway.js';

const COUNT = Number(process.argv[2] ?? 100_000);
const BASE = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function measure(kind: string, db: Database): Promise<void> {
  const log = new AuditLog(db);
  const keys = new SigningKeys(db, systemClock);
  const deps = { db, keys, clock: systemClock, issuer: 'http://localhost:4000' };
  for (let done = 0; done < COUNT; done += 1000) {
    await log.append(sampleEvents(Math.min(1000, COUNT - done), new Date(Date.UTC(2026, 0, 1) + done * 60_000)));
    await writeCheckpoint(deps);
  }
  let t = performance.now();
  let bytes = 0;
  for await (const chunk of exportAudit(db, { format: 'ndjson', issuer: deps.issuer, now: new Date() })) bytes += chunk.length;
  const exportSeconds = (performance.now() - t) / 1000;
  t = performance.now();
  const result = await verifyStoredChain({ db, keys });
  const verifySeconds = (performance.now() - t) / 1000;
  if (!result.ok) throw new Error(`chain not intact: ${JSON.stringify(result.problem)}`);
  console.log(
    `${kind}: ${COUNT} events, NDJSON export ${Math.round(COUNT / exportSeconds)} events/s (${(bytes / 1e6).toFixed(1)} MB in ${exportSeconds.toFixed(1)} s), ` +
      `verification ${Math.round(COUNT / verifySeconds)} events/s (${verifySeconds.toFixed(1)} s, ${result.checkpointsChecked} checkpoints)`,
  );
}

const name = `consentry_perf_${process.pid}`;
const admin = new pg.Client({ connectionString: BASE });
await admin.connect();
await admin.query(`CREATE DATABASE ${name}`);
const url = new URL(BASE);
url.pathname = `/${name}`;
const postgres = await openDatabase({ kind: 'postgres', url: url.toString() });
try {
  await measure('PostgreSQL', postgres);
} finally {
  await postgres.close();
  await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
  await admin.end();
}

const dir = mkdtempSync(join(tmpdir(), 'consentry-perf-'));
const pglite = await openDatabase({ kind: 'pglite', dataDir: dir });
try {
  await measure('PGlite', pglite);
} finally {
  await pglite.close();
  rmSync(dir, { recursive: true, force: true });
}
