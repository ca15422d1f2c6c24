import type { Command } from 'commander';
import { grantConsent, MAX_CONSENT_DAYS } from '../consent/grantConsent.js';
import { commaList, printResult, UsageError } from './output.js';
import { operatorId, runCommand, withServices } from './runCommand.js';

interface GrantOptions {
  subject: string;
  partner: string;
  purpose: string;
  categories: string;
  days: string;
  json?: boolean;
}

export function registerConsent(program: Command): void {
  const consent = program.command('consent').description('consents recorded outside the gateway');
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
        const result = {
          id: granted.id,
          subjectId: granted.subjectId,
          partnerId: granted.partnerId,
          purpose: granted.purpose,
          categories: granted.categories,
          grantedAt: granted.grantedAt.toISOString(),
          expiresAt: granted.expiresAt.toISOString(),
          receipt: granted.receipt,
        };
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
}
