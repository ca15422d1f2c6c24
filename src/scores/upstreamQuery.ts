import { z } from 'zod';
import { SourceUnavailableError } from '../errors.js';
import { SCORE_MAX, SCORE_MIN } from '../policy/scoreBand.js';
import type { SourceField } from '../policy/sourceAsk.js';
import type { SourcedSubject, SourcedSummary, SubjectSourceAsk } from './scoreSource.js';

/** One GraphQL request to the upstream, and how to read its answer back per caller. */
export interface UpstreamBatch {
  query: string;
  variables: Record<string, string[]>;
  /** For each caller's ask, in order: subject id → the alias of the group that fetched it. */
  groupOf: Map<string, string>[];
  groups: Map<string, Group>;
}

interface Group {
  alias: string;
  fields: SourceField[];
  thresholds: number[];
  historyMonths: number;
  ids: Set<string>;
}

/**
 * Builds the one request that serves every caller in a batch. Subjects asked
 * for the same fields (and the same thresholds and window) share a root
 * field, aliased `g0`, `g1`…; subjects asked for different fields are in
 * different groups, so each subject is asked for exactly what was released
 * for it. Ids travel as variables; thresholds and months are integers the
 * gateway validated, written into the document.
 */
export function buildUpstreamBatch(callers: readonly (readonly SubjectSourceAsk[])[]): UpstreamBatch {
  const groups = new Map<string, Group>();
  const groupOf = callers.map((asks) => {
    const mine = new Map<string, string>();
    for (const ask of asks) {
      const signature = JSON.stringify([ask.fields, ask.thresholds, ask.historyMonths]);
      let group = groups.get(signature);
      if (!group) {
        group = { alias: `g${groups.size}`, fields: ask.fields, thresholds: ask.thresholds, historyMonths: ask.historyMonths, ids: new Set() };
        groups.set(signature, group);
      }
      group.ids.add(ask.subjectId);
      mine.set(ask.subjectId, group.alias);
    }
    return mine;
  });
  const byAlias = new Map([...groups.values()].map((g) => [g.alias, g]));
  const params = [...byAlias.keys()].map((a) => `$${a}: [ID!]!`).join(', ');
  const roots = [...byAlias.values()].map((g) => `${g.alias}: scoreSummaries(ids: $${g.alias}) { id${selectionOf(g)} }`);
  return {
    query: `query ConsentryReleased(${params}) { ${roots.join(' ')} }`,
    variables: Object.fromEntries([...byAlias.values()].map((g) => [g.alias, [...g.ids]])),
    groupOf,
    groups: byAlias,
  };
}

const SELECTIONS: Record<Exclude<SourceField, 'identity' | 'atLeast' | 'history'>, string> = {
  band: 'band',
  value: 'value',
  dimensions: 'dimensions { creditHistory behaviourPreferences fulfilmentCapacity identityTraits socialConnections }',
  factors: 'factors { code description }',
  asOf: 'asOf',
  model: 'model',
};

function selectionOf(g: Group): string {
  let identity = '';
  const score: string[] = [];
  for (const field of g.fields) {
    if (field === 'identity') identity = ' identity { verified level verifiedAt }';
    else if (field === 'atLeast') g.thresholds.forEach((t, i) => score.push(`t${i}: atLeast(threshold: ${t})`));
    else if (field === 'history') score.push(`history(months: ${g.historyMonths}) { month value }`);
    else score.push(SELECTIONS[field]);
  }
  return identity + (score.length ? ` score { ${score.join(' ')} }` : '');
}

const isoDate = z.iso.datetime({ offset: true }).transform((v) => new Date(v));
const FIELD_SHAPES = {
  band: z.enum(['POOR', 'FAIR', 'GOOD', 'VERY_GOOD', 'EXCELLENT']),
  value: z.number().int().min(SCORE_MIN).max(SCORE_MAX),
  dimensions: z.object({
    creditHistory: z.number().int().min(0).max(100),
    behaviourPreferences: z.number().int().min(0).max(100),
    fulfilmentCapacity: z.number().int().min(0).max(100),
    identityTraits: z.number().int().min(0).max(100),
    socialConnections: z.number().int().min(0).max(100),
  }),
  factors: z.array(z.object({ code: z.string(), description: z.string() })),
  history: z.array(z.object({ month: z.string().regex(/^\d{4}-\d{2}$/), value: z.number().int() })),
  asOf: isoDate,
  model: z.string(),
};
const IDENTITY = z.object({ verified: z.boolean(), level: z.string().nullable(), verifiedAt: isoDate.nullable() }).nullable();
const ANSWER = z.object({ data: z.record(z.string(), z.array(z.unknown())).nullable().optional(), errors: z.array(z.unknown()).optional() });

/**
 * Reads the upstream's answer into one map per caller, keeping only what each
 * caller asked. Anything unexpected (a missing group, a subject not asked
 * for, a value out of its range, GraphQL errors) fails the whole batch: the
 * gateway never invents or guesses a value.
 */
export function readUpstreamAnswer(batch: UpstreamBatch, body: unknown): Map<string, SourcedSubject>[] {
  const answer = ANSWER.safeParse(body);
  if (!answer.success) throw new SourceUnavailableError('malformed');
  if (answer.data.errors?.length) throw new SourceUnavailableError('graphql_errors');
  const data = answer.data.data;
  if (!data) throw new SourceUnavailableError('malformed');
  const byGroup = new Map<string, Map<string, SourcedSubject>>();
  for (const [alias, group] of batch.groups) {
    const items = data[alias];
    if (!items) throw new SourceUnavailableError('malformed');
    const subjects = new Map<string, SourcedSubject>();
    for (const item of items) {
      if (item === null) continue; // a subject the upstream does not know
      const parsed = readSubject(group, item);
      if (!parsed || subjects.has(parsed.id)) throw new SourceUnavailableError('malformed');
      subjects.set(parsed.id, parsed.subject);
    }
    byGroup.set(alias, subjects);
  }
  return batch.groupOf.map((mine) => {
    const out = new Map<string, SourcedSubject>();
    for (const [id, alias] of mine) {
      const subject = byGroup.get(alias)!.get(id);
      if (subject) out.set(id, subject);
    }
    return out;
  });
}

function readSubject(group: Group, item: unknown): { id: string; subject: SourcedSubject } | undefined {
  if (typeof item !== 'object' || item === null) return undefined;
  const raw = item as Record<string, unknown>;
  if (typeof raw.id !== 'string' || !group.ids.has(raw.id)) return undefined;
  const subject: SourcedSubject = {};
  if (group.fields.includes('identity')) {
    const identity = IDENTITY.safeParse(raw.identity);
    if (!identity.success) return undefined;
    subject.identity = identity.data;
  }
  if (group.fields.some((f) => f !== 'identity')) {
    if (raw.score === null) subject.score = null;
    else {
      const score = readSummary(group, raw.score);
      if (!score) return undefined;
      subject.score = score;
    }
  }
  return { id: raw.id, subject };
}

function readSummary(group: Group, value: unknown): SourcedSummary | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const raw = value as Record<string, unknown>;
  const summary: SourcedSummary = {};
  for (const field of group.fields) {
    if (field === 'identity') continue;
    if (field === 'atLeast') {
      const bits = group.thresholds.map((t, i) => [t, raw[`t${i}`]] as const);
      if (bits.some(([, b]) => typeof b !== 'boolean')) return undefined;
      summary.atLeast = new Map(bits as [number, boolean][]);
      continue;
    }
    const parsed = FIELD_SHAPES[field].safeParse(raw[field]);
    if (!parsed.success) return undefined;
    if (field === 'history' && (parsed.data as unknown[]).length > group.historyMonths) return undefined;
    (summary as Record<string, unknown>)[field] = parsed.data;
  }
  return summary;
}
