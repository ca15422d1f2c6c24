import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { JSONWebKeySet } from 'jose';
import { ReceiptInvalidError, verifyReceipt, type ReceiptClaims } from '../consent/receipts.js';
import { EXIT_FAILURE, printResult, UsageError, type CommandIO } from './output.js';
import { runCommand, withServices } from './runCommand.js';

export function registerReceipt(program: Command): void {
  const receipt = program.command('receipt').description('consent receipts (JWS signed by the gateway)');
  receipt
    .command('verify')
    .description(
      "check a consent receipt's signature against the published keys; exit 0 and print its claims when valid, exit 1 with the reason when not",
    )
    .argument('<file>', 'a file holding the compact JWS, or - for stdin')
    .option('--jwks <url|file>', "a JWKS URL or file to verify against (default: the gateway's keys in its database)")
    .option('--json', 'machine-readable output')
    .action((file: string, opts: { jwks?: string; json?: boolean }) =>
      runCommand(opts.json, async (io) => {
        const jws = (await readReceipt(file)).trim();
        if (!jws) throw new UsageError(`${file === '-' ? 'stdin' : file} holds no receipt`);
        const jwks = opts.jwks ? await loadJwks(opts.jwks) : await withServices((s) => s.keys.allPublicKeys());
        try {
          const { kid, claims } = await verifyReceipt(jws, jwks);
          printResult(io, !!opts.json, { valid: true, kid, claims }, describeValid(kid, claims));
        } catch (err) {
          if (!(err instanceof ReceiptInvalidError)) throw err;
          reportInvalid(io, !!opts.json, err.message);
        }
      }),
    );
}

async function readReceipt(file: string): Promise<string> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
}

async function loadJwks(source: string): Promise<JSONWebKeySet> {
  let text: string;
  if (/^https?:\/\//.test(source)) {
    const res = await fetch(source).catch(() => undefined);
    if (!res?.ok) throw new UsageError(`cannot fetch the JWKS at ${source}${res ? ` (HTTP ${res.status})` : ''}`);
    text = await res.text();
  } else {
    text = await readFile(source, 'utf8').catch(() => {
      throw new UsageError(`cannot read the JWKS file ${source}`);
    });
  }
  try {
    const jwks = JSON.parse(text) as JSONWebKeySet;
    if (!Array.isArray(jwks?.keys)) throw new Error();
    return jwks;
  } catch {
    throw new UsageError(`${source} is not a JWKS (JSON with a "keys" array)`);
  }
}

function describeValid(kid: string, claims: ReceiptClaims): string {
  return [
    `Valid receipt, signed with key ${kid}.`,
    `  consent     ${claims.consentId}`,
    `  subject     ${claims.subject}`,
    `  partner     ${claims.partner.name} (${claims.partner.id})`,
    `  purpose     ${claims.purpose}`,
    `  categories  ${claims.categories.join(', ')}`,
    `  granted     ${claims.grantedAt}`,
    `  expires     ${claims.expiresAt}`,
    // The signature proves what was consented, not that the consent is still in force.
    'A receipt proves the consent was given; whether it was revoked since is in the gateway, not the receipt.',
  ].join('\n');
}

/**
 * A receipt that fails verification is a verdict, not an error: under --json
 * it is printed on stdout like a valid one (as `audit verify` prints a broken
 * chain), with exit 1 so scripts need not parse it to know.
 */
function reportInvalid(io: CommandIO, json: boolean, reason: string): void {
  if (json) io.stdout(JSON.stringify({ valid: false, reason }, null, 2));
  else io.stderr(`invalid receipt: ${reason}`);
  process.exitCode = EXIT_FAILURE;
}
