import type { RequestDecision } from './decideRequest.js';
import type { ReleaseDecision } from './releaseDecision.js';

/** The longest `history(months:)` window a partner may ask for. */
export const MAX_HISTORY_MONTHS = 120;

/** The fields a score source can be asked for: `Subject.identity` and every `ScoreSummary` field. */
export type SourceField = 'identity' | 'atLeast' | 'band' | 'value' | 'dimensions' | 'factors' | 'history' | 'asOf' | 'model';

/** A field an operation selects under a root field, with what releases it (as the SDL declares). */
export interface SelectedSourceField {
  field: SourceField;
  /** The field's own category (`@category`). */
  category?: string;
  /** Released with any category under this prefix (`@releasedWithAny`). */
  releasedWithAny?: string;
}

/** What one subject-reading root field selects below it, with the arguments a source needs. */
export interface RootFieldSelection {
  fields: readonly SelectedSourceField[];
  /** Every `atLeast(threshold:)` argument. */
  thresholds: readonly number[];
  /** The longest `history(months:)` window asked (0 when none is valid). */
  historyMonths: number;
}

/** What a score source is asked about one subject: nothing else of it leaves the source. */
export interface SubjectSourceAsk {
  subjectId: string;
  /** Sorted; never empty. */
  fields: SourceField[];
  /** Sorted; present only when `atLeast` is asked. */
  thresholds: number[];
  /** Set only when `history` is asked. */
  historyMonths: number;
}

/**
 * Minimisation at the source: from the decision (made and audited before
 * this runs) and what the operation selects, the fields to fetch per subject.
 * A subject with nothing released is not asked about at all; a denied or
 * unselected field is never asked for. `atLeast` is asked of the source as a
 * predicate, so the score never leaves it, unless the value itself is
 * released and selected, in which case the gateway compares. Pure.
 */
export function planSourceAsks(decision: RequestDecision, selections: ReadonlyMap<string, RootFieldSelection>): SubjectSourceAsk[] {
  if (decision.refusal) return [];
  const bySubject = new Map<string, { fields: Set<SourceField>; thresholds: Set<number>; historyMonths: number }>();
  for (const [responseKey, root] of decision.rootFields) {
    const selection = selections.get(responseKey);
    if (root.refusal || !selection) continue;
    for (const [subjectId, release] of root.bySubject) {
      const released = selection.fields.filter((f) => isReleased(release, f)).map((f) => f.field);
      if (!released.length) continue;
      const ask = bySubject.get(subjectId) ?? { fields: new Set<SourceField>(), thresholds: new Set<number>(), historyMonths: 0 };
      for (const field of released) ask.fields.add(field);
      if (released.includes('atLeast')) for (const t of selection.thresholds) ask.thresholds.add(t);
      if (released.includes('history')) ask.historyMonths = Math.max(ask.historyMonths, selection.historyMonths);
      bySubject.set(subjectId, ask);
    }
  }
  const asks: SubjectSourceAsk[] = [];
  for (const [subjectId, ask] of bySubject) {
    // The gateway answers atLeast from a released value; asking the predicate too would be redundant.
    if (ask.fields.has('value')) ask.fields.delete('atLeast');
    if (ask.fields.has('history') && ask.historyMonths === 0) ask.fields.delete('history');
    if (!ask.fields.size) continue;
    asks.push({
      subjectId,
      fields: [...ask.fields].sort(),
      thresholds: ask.fields.has('atLeast') ? [...ask.thresholds].sort((a, b) => a - b) : [],
      historyMonths: ask.fields.has('history') ? ask.historyMonths : 0,
    });
  }
  return asks;
}

function isReleased(decision: ReleaseDecision, selected: SelectedSourceField): boolean {
  if (selected.category) return decision.byCategory.get(selected.category)?.released === true;
  const prefix = selected.releasedWithAny;
  return prefix !== undefined && decision.released.some((c) => c.startsWith(prefix));
}
