import type { Command } from 'commander';
import { printResult } from './output.js';
import { operatorId, runCommand, withServices } from './runCommand.js';

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description("the gateway's own signing keys");
  keys
    .command('rotate')
    .description('start signing with a new key; retired public keys stay published until what they signed has expired')
    .option('--json', 'machine-readable output')
    .action((opts: { json?: boolean }) =>
      runCommand(opts.json, async (io) => {
        const rotated = await withServices(async (services) => {
          const result = await services.keys.rotate();
          await services.auditLog.append([
            {
              kind: 'key.rotated',
              at: services.clock(),
              actorType: 'operator',
              actorId: operatorId(),
              details: { kid: result.kid, retiredKid: result.retiredKid ?? null },
            },
          ]);
          return result;
        });
        printResult(
          io,
          !!opts.json,
          { kid: rotated.kid, retiredKid: rotated.retiredKid ?? null },
          // The bare kid, so scripts can capture it.
          rotated.kid,
        );
      }),
    );
}
