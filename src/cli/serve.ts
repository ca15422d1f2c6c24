import type { Command } from 'commander';
import { createServices } from '../services.js';
import { DemoSeedIncompleteError, demoSeedState, seedDemo } from './seedDemo.js';
import { configFromEnv, printResult, processIO, reportFailure } from './output.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('migrate, seed demo data into an empty database, and serve HTTP on PORT (default 4000)')
    .option('--json', 'machine-readable output')
    .option('--no-demo', 'do not seed demo data into an empty database')
    .action(async (opts: { json?: boolean; demo: boolean }) => {
      const startedAt = performance.now();
      try {
        const config = configFromEnv();
        // Loaded here, not at the top: every other command starts without the HTTP stack. Loading it while the
        // database opens takes it off the cold start.
        const httpStack = import('../http/server.js');
        httpStack.catch(() => undefined);
        const services = await createServices(config, { role: 'serve' });
        let seeded: string | undefined;
        let warning: string | undefined;
        if (opts.demo && config.nodeEnv !== 'production') {
          const state = await demoSeedState(services.db);
          if (state === 'empty') seeded = (await seedDemo(services)).directory;
          // The gateway works, but the walkthrough would not: say how to get a whole demo.
          if (state === 'incomplete') warning = new DemoSeedIncompleteError().message;
        }
        const { createServer } = await httpStack;
        const server = await createServer(services);
        await server.app.listen({ port: config.port, host: config.host });
        const address = server.app.server.address();
        const port = typeof address === 'object' && address ? address.port : config.port;
        const coldStartMs = Math.round(performance.now() - startedAt);
        printResult(
          processIO,
          !!opts.json,
          { listening: `http://localhost:${port}`, database: config.database.kind, coldStartMs, demoCredentials: seeded, warning },
          `Consentry listening on http://localhost:${port} (${config.database.kind}, ready in ${coldStartMs} ms)` +
            (seeded ? `\nDemo data seeded; partner keys and example requests are in ${seeded}` : ''),
        );
        if (warning && !opts.json) processIO.stderr(`warning: ${warning}`);
        let stopping = false;
        const stop = async (signal: string) => {
          if (stopping) return;
          stopping = true;
          services.logger.info({ signal }, 'shutting down: draining requests');
          try {
            await server.close();
            await services.db.close();
          } finally {
            process.exit(0);
          }
        };
        process.on('SIGTERM', () => void stop('SIGTERM'));
        process.on('SIGINT', () => void stop('SIGINT'));
      } catch (err) {
        reportFailure(processIO, !!opts.json, err);
        process.exit(process.exitCode ?? 1);
      }
    });
}
