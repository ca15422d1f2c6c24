import type { Command } from 'commander';
import { revealSubjectScores, subjectOverview, type RevealedScores, type SubjectOverview } from '../subjects/subjectOverview.js';
import { eraseSubject, type SubjectErasure } from '../subjects/eraseSubject.js';
import { consentDepsOf } from '../consent/consentDeps.js';
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

  subject
    .command('erase')
    .description(
      "erases a subject on a request received outside the gateway: revokes its consents, deletes its score summary and identity data, destroys the key that links its audit events to it; the log stays verifiable",
    )
    .argument('<id>', "the subject's id")
    .requiredOption('--reason <text>', 'why (recorded in the subject.erased audit event; must not contain the id)')
    .option('--json', 'machine-readable output')
    .action((id: string, opts: { reason: string; json?: boolean }) =>
      runCommand(opts.json, async (io) => {
        const erasure = await withServices((services) =>
          eraseSubject(consentDepsOf(services), { subjectId: id, reason: opts.reason, actor: { type: 'operator', id: operatorId() }, channel: 'cli' }),
        );
        const shown = erasureDetails(erasure);
        printResult(io, !!opts.json, shown, describeErasure(shown));
      }),
    );
}

function erasureDetails(e: SubjectErasure) {
  return { ...e, erasedAt: e.erasedAt.toISOString() };
}

function describeErasure(e: ReturnType<typeof erasureDetails>): string {
  return [
    `Subject erased at ${e.erasedAt}; its audit events now carry the unlinkable pseudonym ${e.pseudonym}.`,
    `  consents     ${e.consentsRevoked} revoked; ${e.consentsPseudonymised} kept under the pseudonym, receipts removed`,
    `  score data   ${e.scoreDeleted ? 'deleted' : 'none held'}; identity ${e.identityDeleted ? 'deleted' : 'none held'}`,
    `  requests     ${e.requestsPseudonymised} kept under the pseudonym`,
    `  audit log    key ${e.keyDestroyed ? 'destroyed' : 'none held'}; ${e.linkableEventsHidden} events that still name the subject linkably (written before pseudonyms, or before it had a key) hidden from default views`,
  ].join('\n');
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
