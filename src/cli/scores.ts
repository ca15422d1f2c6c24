import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { importScoreLines, type ImportProgress, type ImportSummary } from './scoreImport.js';
import { printResult, UsageError } from './output.js';
import { runCommand, withServices } from './runCommand.js';

const LINE_FORMAT = `
File format: NDJSON, one subject a line (band is derived from value; a line
whose "band" disagrees with its value is rejected):

  {"subjectId": "s-1001", "value": 712,
   "dimensions": {"creditHistory": 81, "behaviourPreferences": 64,
                  "fulfilmentCapacity": 70, "identityTraits": 90, "socialConnections": 55},
   "factors": [{"code": "PAYMENT_HISTORY", "description": "No missed payments in 24 months"}],
   "history": [{"month": "2026-05", "value": 705}, {"month": "2026-04", "value": 698}],
   "asOf": "2026-06-01T00:00:00Z", "model": "scorer-2026.1",
   "identity": {"verified": true, "level": "document", "verifiedAt": "2025-11-02T10:00:00Z"}}

  value 350-950; dimensions 0-100 each; history months YYYY-MM (stored newest
  first); asOf an ISO 8601 date-time with offset; identity optional. An
  existing subject's summary is replaced.

Bad lines are reported on stderr as "line N: reason" and skipped; good lines
are kept. Exit status: 0 when every line was imported, 1 when some were
rejected (or the import failed), 2 on a usage error.`;

export function registerScores(program: Command): void {
  const scores = program.command('scores').description('score summaries');
  scores
    .command('import')
    .description('load score summaries from an NDJSON file, one subject a line; bad lines are reported with line numbers, good ones kept')
    .argument('<file>', 'the NDJSON file')
    .option('--json', 'machine-readable summary on stdout (rejected lines are still reported on stderr)')
    .addHelpText('after', LINE_FORMAT)
    .action((file: string, opts: { json?: boolean }) =>
      runCommand(opts.json, async (io) => {
        await access(file).catch(() => {
          throw new UsageError(`cannot read ${file}`);
        });
        const showProgress = process.stderr.isTTY === true;
        const summary = await withServices((services) => {
          const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
          return importScoreLines(services.db, lines, {
            onRejected: (line, reason) => {
              if (showProgress) clearProgress();
              io.stderr(opts.json ? JSON.stringify({ line, reason }) : `line ${line}: ${reason}`);
            },
            onProgress: showProgress ? drawProgress : undefined,
          });
        });
        if (showProgress) clearProgress();
        printResult(io, !!opts.json, summary, describeSummary(summary));
        if (summary.rejected > 0) process.exitCode = 1;
      }),
    );
}

function describeSummary(s: ImportSummary): string {
  const rate = `${s.seconds.toFixed(1)} s, ${s.linesPerSecond.toLocaleString('en')} lines/s`;
  return s.rejected
    ? `Imported ${s.imported.toLocaleString('en')} lines; rejected ${s.rejected.toLocaleString('en')} (listed above) (${rate}).`
    : `Imported ${s.imported.toLocaleString('en')} lines (${rate}).`;
}

function drawProgress(p: ImportProgress): void {
  const rate = p.seconds > 0 ? Math.round(p.lines / p.seconds).toLocaleString('en') : '…';
  process.stderr.write(`\r  ${p.imported.toLocaleString('en')} imported, ${p.rejected.toLocaleString('en')} rejected (${rate} lines/s)`);
}

function clearProgress(): void {
  process.stderr.write('\r\x1b[K');
}
