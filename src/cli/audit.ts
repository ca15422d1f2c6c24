import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { settleIssuer } from '../gatewayIssuer.js';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import type { JSONWebKeySet } from 'jose';
import { exportAudit, type ExportFormat } from '../audit/auditExport.js';
import { writeCheckpoint } from '../audit/checkpoints.js';
import { readAuditExport } from '../audit/exportReader.js';
import { verifyChain, type ChainVerification } from '../audit/verifyChain.js';
import { verifyStoredChain } from '../audit/verifyStoredChain.js';
import { SigningKeys } from '../auth/signingKeys.js';
import { systemClock } from '../clock.js';
import { openDatabase, type Database } from '../store/database.js';
import { UsageError, configFromEnv, printResult, processIO, reportFailure } from './output.js';

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('verify, export and checkpoint the tamper-evident audit log');

  audit
    .command('verify')
    .description('check the whole chain and its signed checkpoints (or an NDJSON export, offline); exit 1 at the first bad seq')
    .option('--file <export>', 'an NDJSON export to verify offline instead of the database ("-" for stdin)')
    .option('--jwks <url|file>', 'the gateway JWKS the export is checked against (required with --file)')
    .option('--json', 'machine-readable output')
    .action(async (opts: { file?: string; jwks?: string; json?: boolean }) => {
      try {
        const result = opts.file ? await verifyExportFile(opts.file, opts.jwks) : await withDatabase((db) => verifyStoredChain({ db, keys: new SigningKeys(db, systemClock) }));
        reportVerification(result, !!opts.json);
      } catch (err) {
        reportFailure(processIO, !!opts.json, err);
      }
    });

  audit
    .command('export')
    .description('write audit events to stdout (NDJSON carries the checkpoints and verifies offline)')
    .requiredOption('--format <format>', 'csv or ndjson')
    .option('--from <time>', 'events at or after this ISO-8601 time')
    .option('--to <time>', 'events before this ISO-8601 time')
    .option('--json', 'machine-readable errors')
    .action(async (opts: { format: string; from?: string; to?: string; json?: boolean }) => {
      try {
        if (opts.format !== 'csv' && opts.format !== 'ndjson') throw new UsageError('--format must be csv or ndjson.');
        const filter = { from: isoOption('--from', opts.from), to: isoOption('--to', opts.to) };
        const config = configFromEnv();
        await withDatabase(async (db) => {
          const { issuer } = await settleIssuer(db, config, 'command', systemClock());
          const chunks = exportAudit(db, { format: opts.format as ExportFormat, filter, issuer, now: systemClock() });
          await writeToStdout(Readable.from(chunks));
        });
      } catch (err) {
        reportFailure(processIO, !!opts.json, err);
      }
    });

  audit
    .command('checkpoint')
    .description('sign and store a checkpoint of the chain head now')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      try {
        const config = configFromEnv();
        const checkpoint = await withDatabase(async (db) =>
          writeCheckpoint({ db, keys: new SigningKeys(db, systemClock), clock: systemClock, issuer: (await settleIssuer(db, config, 'command', systemClock())).issuer }),
        );
        printResult(
          processIO,
          !!opts.json,
          { checkpoint: checkpoint ?? null },
          checkpoint ? `Checkpoint at seq ${checkpoint.seq}, head ${checkpoint.headHash}, signed with key ${checkpoint.kid}.` : 'The audit log is empty; nothing to checkpoint.',
        );
      } catch (err) {
        reportFailure(processIO, !!opts.json, err);
      }
    });
}

async function withDatabase<T>(work: (db: Database) => Promise<T>): Promise<T> {
  const db = await openDatabase(configFromEnv().database);
  try {
    return await work(db);
  } finally {
    await db.close();
  }
}

async function verifyExportFile(file: string, jwksSource: string | undefined): Promise<ChainVerification> {
  if (!jwksSource) throw new UsageError('--jwks URL|FILE is required with --file: the export is checked against the gateway keys you trust.');
  const jwks = await loadJwks(jwksSource);
  const input = file === '-' ? process.stdin : createReadStream(file, { encoding: 'utf8' });
  const lines = createInterface({ input, crlfDelay: Infinity });
  try {
    const contents = await readAuditExport(lines);
    return await verifyChain(contents.events, contents.checkpoints, { extent: contents.header.extent, jwks });
  } finally {
    lines.close();
  }
}

async function loadJwks(source: string): Promise<JSONWebKeySet> {
  let parsed: unknown;
  try {
    if (/^https?:\/\//.test(source)) {
      const res = await fetch(source);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      parsed = await res.json();
    } else {
      parsed = JSON.parse(await readFile(source, 'utf8'));
    }
  } catch (err) {
    throw new UsageError(`Cannot read the JWKS from ${source}: ${(err as Error).message}`);
  }
  if (!parsed || !Array.isArray((parsed as JSONWebKeySet).keys)) throw new UsageError(`${source} is not a JWKS ({"keys": [...]}).`);
  return parsed as JSONWebKeySet;
}

function reportVerification(result: ChainVerification, json: boolean): void {
  if (json) processIO.stdout(JSON.stringify(result, null, 2));
  if (result.ok) {
    if (!json) {
      const head = result.head ? `head ${result.head.hash} at seq ${result.head.seq}` : 'the log is empty';
      processIO.stdout(`Audit chain intact: ${result.eventsChecked} events checked, ${head}, ${result.checkpointsChecked} checkpoints checked.`);
    }
    return;
  }
  const p = result.problem!;
  if (!json) processIO.stderr(`Audit chain broken at seq ${p.seq} (${p.code}): ${p.message}\n${result.eventsChecked} events verified before it.`);
  process.exitCode = 1;
}

function isoOption(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new UsageError(`${name} must be an ISO-8601 date-time, got "${value}".`);
  return date.toISOString();
}

/** Streams to stdout honouring backpressure; a reader that goes away (`| head`) ends the export quietly. */
async function writeToStdout(source: Readable): Promise<void> {
  try {
    await pipeline(source, process.stdout, { end: false });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPIPE') throw err;
  }
}
