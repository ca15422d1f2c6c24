import type { Command } from 'commander';
import { createServices } from '../services.js';
import { DemoSeedIncompleteError, demoSeedState, seedDemo } from './seedDemo.js';
import { loadConfig } from '../config.js';
import { lifecycleLogger } from '../logger.js';
import { drainStdoutLog } from '../logDestination.js';
import { printResult, processIO, reportFailure } from './output.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('migrate, seed demo data into an empty database, and serve HTTP on PORT (default 4000)')
    .option('--json', 'machine-readable output')
    .option('--no-demo', 'do not seed demo data into an empty database')
    .action(async (opts: { json?: boolean; demo: boolean }) => {
      const startedAt = performance.now();
      try {
        // The request path's deadlines, not the longer ones other commands get.
        const config = loadConfig(process.env);
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
        const lifecycle = lifecycleLogger(services.logger);
        const started = { listening: `http://localhost:${port}`, database: config.database.kind, coldStartMs, demoCredentials: seeded, warning };
        if (opts.json) printResult(processIO, true, started, '');
        else {
          // The listening line last: whoever waits for it (a script, a test, a person) has everything above it.
          if (seeded) lifecycle.info({ demoCredentials: seeded }, `Demo data seeded; partner keys and example requests are in ${seeded}`);
          if (warning) lifecycle.warn(warning);
          lifecycle.info(
            { ...started, tracing: services.tracing.enabled },
            `Consentry listening on http://localhost:${port} (${config.database.kind}, ready in ${coldStartMs} ms)`,
          );
        }
        let stopping = false;
        const stop = async (signal: string) => {
          if (stopping) return;
          stopping = true;
          lifecycle.info({ signal, deadlineMs: config.deadlines.shutdownMs }, 'shutting down: draining requests');
          // Drain, then close what is left; past the deadline stop waiting and say so with the exit code.
          let timer: NodeJS.Timeout | undefined;
          const deadline = new Promise<'cut'>((resolve) => (timer = setTimeout(() => resolve('cut'), config.deadlines.shutdownMs)));
          const drained = (async () => {
            await server.close();
            await services.tracing.shutdown();
            await services.db.close();
            return 'drained' as const;
          })();
          const outcome = await Promise.race([drained, deadline]).catch((err: unknown) => {
            lifecycle.error({ err }, 'shutdown failed');
            return 'failed' as const;
          });
          clearTimeout(timer);
          if (outcome !== 'drained') lifecycle.error({ outcome }, 'shutdown did not drain in time; requests still in flight were cut');
          else lifecycle.info({ signal }, 'stopped');
          await drainStdoutLog();
          process.exit(outcome === 'drained' ? 0 : 1);
        };
        process.on('SIGTERM', () => void stop('SIGTERM'));
        process.on('SIGINT', () => void stop('SIGINT'));
      } catch (err) {
        reportFailure(processIO, !!opts.json, err);
        process.exit(process.exitCode ?? 1);
      }
    });
}
