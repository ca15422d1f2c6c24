import type { Command } from 'commander';
import { revealSubjectScores, subjectOverview, type RevealedScores, type SubjectOverview } from '../subjects/subjectOverview.js';
import { printResult } from './output.js';
import { operatorId, runCommand, withServices } from './runCommand.js';

export function registerSubject(program: Command): void {
  const subject = program.command('subject').description("what the gateway holds about a subject (score values only on an audited request)");

  subject
    .command('show')
    .description(
      'summary metadata of one subject: identity check, score date and model, consents, pending requests and reads; never score values unless --reveal-scores',
    )
    .argument('<id>', "the subject's id")
    .option('--reveal-scores <reason>', 'also print the score values; recorded as a subject.scores_viewed audit event with this reason before they are shown')
    .option('--json', 'machine-readable output')
    .action((id: string, opts: { revealScores?: string; json?: boolean }) =>
      runCommand(opts.json, async (io) => {
        const shown = await withServices(async (services) => {
          const overview = await subjectOverview(services.db, services.pseudonyms, id, services.clock());
          if (opts.revealScores === undefined) return subjectDetails(overview);
          const scores = await revealSubjectScores(services, { subjectId: id, reason: opts.revealScores, actor: { type: 'operator', id: operatorId() }, channel: 'cli' });
          return { ...subjectDetails(overview), scores };
        });
        printResult(io, !!opts.json, shown, describeSubject(shown));
      }),
    );
}

function subjectDetails(s: SubjectOverview) {
  return {
    id: s.id,
    inScoreStore: s.inScoreStore,
    identity: s.identity && { verified: s.identity.verified, level: s.identity.level, verifiedAt: s.identity.verifiedAt?.toISOString() ?? null },
    score: s.score && { asOf: s.score.asOf.toISOString(), model: s.score.model, updatedAt: s.score.updatedAt.toISOString(), historyMonths: s.score.historyMonths },
    consents: s.consents,
    pendingRequests: s.pendingRequests,
    access: {
      last: s.access.last && { at: s.access.last.at.toISOString(), partnerId: s.access.last.partnerId, purpose: s.access.last.purpose },
      lastDay: s.access.lastDay,
    },
  };
}

function describeSubject(s: ReturnType<typeof subjectDetails> & { scores?: RevealedScores | null }): string {
  const lines = [
    `Subject ${s.id}${s.inScoreStore ? '' : ' (not in the score store)'}`,
    `  identity     ${s.identity ? (s.identity.verified ? `verified, level ${s.identity.level ?? '?'}, ${s.identity.verifiedAt ?? 'date unknown'}` : 'not verified') : '(none)'}`,
    `  score        ${s.score ? `as of ${s.score.asOf}, model ${s.score.model}, ${s.score.historyMonths} months of history, loaded ${s.score.updatedAt}` : '(none)'}`,
    `  consents     ${s.consents.active} active, ${s.consents.revoked} revoked, ${s.consents.expired} expired; ${s.pendingRequests} requests pending`,
    `  reads        ${s.access.last ? `last ${s.access.last.at} by ${s.access.last.partnerId} for ${s.access.last.purpose}` : 'never read'}; ${s.access.lastDay} in the last 24 hours`,
  ];
  if (s.scores !== undefined) {
    lines.push(
      s.scores
        ? `  score values (this look is audited): ${s.scores.value}, ${s.scores.band}; dimensions ${JSON.stringify(s.scores.dimensions)}; factors ${s.scores.factors.map((f) => f.code).join(', ') || '(none)'}; history ${s.scores.history.map((h) => `${h.month} ${h.value}`).join(', ') || '(none)'}`
        : '  score values: none on file (the request was audited)',
    );
  }
  return lines.join('\n');
}
