import { Option, type Command } from 'commander';
import type { UserRole } from '../auth/principal.js';
import { USER_ROLES } from '../auth/principal.js';
import { ForbiddenError } from '../errors.js';
import { parseDuration } from './duration.js';
import { configFromEnv, printResult } from './output.js';
import { runCommand, withServices } from './runCommand.js';

/** A month is plenty for a demo or a test; anything longer belongs to a real identity provider. */
const MAX_TTL_SECONDS = 30 * 86_400;

const DEFAULT_SUB: Record<UserRole, string> = { subject: 'demo-subject-1', compliance: 'officer-1', admin: 'admin-1' };

export function registerToken(program: Command): void {
  program
    .command('token')
    .description('mint a subject, compliance or admin token signed by the gateway (refused when NODE_ENV=production)')
    .addOption(new Option('--role <role>', 'the role the token carries').choices(USER_ROLES).makeOptionMandatory())
    .option('--sub <id>', 'the token subject (default: demo-subject-1, officer-1 or admin-1 by role)')
    .option('--ttl <duration>', 'lifetime: 30s, 15m, 2h, 7d (at most 30d)', '15m')
    .option('--json', 'print {token, sub, roles, expiresAt} instead of the bare token')
    .action((opts: { role: UserRole; sub?: string; ttl: string; json?: boolean }) =>
      runCommand(opts.json, async (io) => {
        const config = configFromEnv();
        // Production sign-in goes through a trusted OpenID issuer; a shell on the host must not mint identities.
        if (config.nodeEnv === 'production') {
          throw new ForbiddenError('consentry token is disabled when NODE_ENV=production; sign in through a trusted issuer instead.');
        }
        const ttlSeconds = parseDuration(opts.ttl, MAX_TTL_SECONDS);
        const sub = opts.sub ?? DEFAULT_SUB[opts.role];
        const { token, expiresAt } = await withServices(async (services) => {
          const issuedAt = services.clock();
          const token = await services.tokens.issueRoleToken(sub, [opts.role], ttlSeconds);
          return { token, expiresAt: new Date(Math.floor(issuedAt.getTime() / 1000) * 1000 + ttlSeconds * 1000) };
        }, config);
        printResult(io, !!opts.json, { token, sub, roles: [opts.role], expiresAt: expiresAt.toISOString() }, token);
      }),
    );
}
