import { Option, type Command } from 'commander';
import { consentStatus, listConsents } from '../audit/complianceConsents.js';
import { grantConsent, MAX_CONSENT_DAYS } from '../consent/grantConsent.js';
import { revokeConsent } from '../consent/revokeConsent.js';
import type { ConsentRecord } from '../store/consents.js';
import { commaList, integerOption, printResult, UsageError } from './output.js';
import { operatorId, runCommand, withServices } from './runCommand.js';

interface GrantOptions {
  subject: string;
  partner: string;
  purpose: string;
  categories: string;
  days: string;
  json?: boolean;
}

interface ListOptions {
  subject?: string;
  partner?: string;
  purpose?: string;
  active?: boolean;
  inactive?: boolean;
  limit: string;
  after?: string;
  json?: boolean;
}

const MAX_LIST = 1000;

export function registerConsent(program: Command): void {
  const consent = program.command('consent').description('list, record and withdraw consents');

  consent
    .command('grant')
    .description(
      'record a consent given outside the gateway (an earlier system, a paper form); it supersedes the same subject, partner and purpose, gets a signed receipt and is audited like any other',
    )
    .requiredOption('--subject <id>', "the subject's id")
    .requiredOption('--partner <clientId>', "the partner's clientId")
    .requiredOption('--purpose <purpose>', 'one of the partner\'s approved purposes')
    .requiredOption('--categories <a,b>', 'categories consented to, comma-separated, within the partner\'s scopes')
    .requiredOption('--days <n>', `how long it lasts, 1 to ${MAX_CONSENT_DAYS} days`)
    .option('--json', 'machine-readable output')
    .action((opts: GrantOptions) =>
      runCommand(opts.json, async (io) => {
        if (!/^\d+$/.test(opts.days)) throw new UsageError(`--days must be a whole number from 1 to ${MAX_CONSENT_DAYS}, got "${opts.days}"`);
        const granted = await withServices((services) =>
          grantConsent(
            { ...services, issuer: services.config.issuer },
            {
              subjectId: opts.subject,
              partnerId: opts.partner,
              purpose: opts.purpose,
              categories: commaList(opts.categories),
              durationDays: Number(opts.days),
              channel: 'cli',
              actor: { type: 'operator', id: operatorId() },
            },
          ),
        );
        const result = { ...consentSummary(granted, granted.grantedAt), receipt: granted.receipt };
        printResult(
          io,
          !!opts.json,
          result,
          [
            `Consent ${result.id} recorded.`,
            `  ${result.subjectId} → ${result.partnerId} for ${result.purpose}: ${result.categories.join(', ')}`,
            `  expires ${result.expiresAt}`,
            `  receipt ${result.receipt}`,
          ].join('\n'),
        );
      }),
    );

  consent
    .command('list')
    .description('list consents, oldest grant first, by subject, partner or purpose; --active or --inactive (revoked or expired)')
    .option('--subject <id>', "only this subject's consents")
    .option('--partner <clientId>', "only consents given to this partner")
    .option('--purpose <purpose>', 'only consents for this purpose')
    .addOption(new Option('--active', 'only consents in force now').conflicts('inactive'))
    .addOption(new Option('--inactive', 'only consents revoked, superseded or run out'))
    .option('--limit <n>', `at most this many, 1 to ${MAX_LIST}`, '100')
    .option('--after <cursor>', 'continue after a previous page (its nextCursor)')
    .option('--json', 'machine-readable output: {"consents": [...], "nextCursor": ...}')
    .action((opts: ListOptions) =>
      runCommand(opts.json, async (io) => {
        const first = integerOption('--limit', opts.limit, 1, MAX_LIST);
        const status = opts.active ? 'ACTIVE' : opts.inactive ? 'INACTIVE' : null;
        const { consents, nextCursor } = await withServices(async (services) => {
          const now = services.clock();
          const page = await listConsents(services.db, {
            filter: { subjectId: opts.subject, partnerId: opts.partner, purpose: opts.purpose, status },
            first,
            after: opts.after,
            now,
          });
          return {
            consents: page.consents.map((c) => consentSummary(c, now)),
            nextCursor: page.hasNextPage ? page.consents.at(-1)!.cursor : null,
          };
        });
        printResult(io, !!opts.json, { consents, nextCursor }, describeConsentList(consents, nextCursor));
      }),
    );

  consent
    .command('revoke')
    .description(
      "withdraw a consent on the subject's behalf (a letter, a call, a consent recorded in error): effective for every request that starts afterwards, audited with channel cli",
    )
    .argument('<id>', "the consent's id")
    .option('--json', 'machine-readable output')
    .action((id: string, opts: { json?: boolean }) =>
      runCommand(opts.json, async (io) => {
        const revoked = await withServices((services) =>
          revokeConsent({ ...services, issuer: services.config.issuer }, { consentId: id, actor: { type: 'operator', id: operatorId() }, channel: 'cli' }),
        );
        const result = consentSummary(revoked, revoked.revokedAt!);
        printResult(
          io,
          !!opts.json,
          result,
          `Consent ${result.id} revoked at ${result.revokedAt}: ${result.partnerId} can no longer read ${result.categories.join(', ')} of ${result.subjectId} for ${result.purpose}.`,
        );
      }),
    );
}

/** A consent as every consent command prints it; the status is computed at `now`, never stored. */
function consentSummary(c: ConsentRecord, now: Date) {
  return {
    id: c.id,
    subjectId: c.subjectId,
    partnerId: c.partnerId,
    purpose: c.purpose,
    categories: c.categories,
    status: consentStatus(c, now),
    channel: c.channel,
    grantedAt: c.grantedAt.toISOString(),
    expiresAt: c.expiresAt.toISOString(),
    revokedAt: c.revokedAt?.toISOString() ?? null,
  };
}

function describeConsentList(consents: ReturnType<typeof consentSummary>[], nextCursor: string | null): string {
  if (!consents.length) return 'No consents match.';
  const lines = consents.map(
    (c) => `${c.id}  ${c.status.padEnd(7)}  ${c.subjectId} → ${c.partnerId} for ${c.purpose}: ${c.categories.join(', ')} (until ${c.expiresAt})`,
  );
  if (nextCursor) lines.push(`More: --after ${nextCursor}`);
  return lines.join('\n');
}
