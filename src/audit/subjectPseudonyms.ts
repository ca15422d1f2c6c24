import { createHmac } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Sql } from '../store/database.js';
import { readPseudonymSettings, readSubjectKeys } from '../store/subjectKeys.js';

/** Prefix of a pseudonym under the subject's own key: unlinkable once that key is destroyed. */
export const SUBJECT_PSEUDONYM_PREFIX = 'sp_';
/** Prefix of a pseudonym under the gateway-wide key, for ids the gateway holds no key for. */
export const GATEWAY_PSEUDONYM_PREFIX = 'sg_';

/** `prefix` + hex HMAC-SHA256 of the subject id under `keyHex`. */
export function subjectPseudonym(keyHex: string, subjectId: string, prefix: string): string {
  return prefix + createHmac('sha256', Buffer.from(keyHex, 'hex')).update(subjectId, 'utf8').digest('hex');
}

/** Every id under which the audit log may name one subject: what the subject's own views search for. */
export interface SubjectEventIds {
  /** The pseudonyms (own key if any, gateway-wide key). */
  pseudonyms: string[];
  /** The plain id, to be matched only up to `plainIdsThroughSeq`. */
  plainId: string;
  plainIdsThroughSeq: string;
}

/**
 * How audit events name subjects (docs/audit-chain.md, section 7): never by
 * id, always by a keyed pseudonym, under the subject's own key when the
 * gateway holds one (so destroying it on erasure unlinks every event), else
 * under the gateway-wide key. The gateway-wide key is read once per process;
 * per-subject keys come with whatever statement already reads the subject.
 */
export class SubjectPseudonyms {
  /**
   * Pseudonyms already computed on the request path, one HMAC per subject key
   * rather than per event: by the key row as read (a new key is a new object,
   * and a dropped one is collected), and, for ids without a key, by id under
   * the gateway-wide key (bounded).
   */
  private readonly underOwnKey = new WeakMap<{ key: string }, string>();
  private readonly underGatewayKey = new LRUCache<string, string>({ max: 10_000 });

  private constructor(
    private readonly gatewayKey: string,
    readonly plainIdsThroughSeq: string,
  ) {}

  static async load(db: Sql, now: Date): Promise<SubjectPseudonyms> {
    const settings = await readPseudonymSettings(db, now);
    return new SubjectPseudonyms(settings.gatewayKey, settings.plainIdsThroughSeq);
  }

  /** The pseudonym of `subjectId` given its own key material (hex), or the gateway-wide one without. */
  of(subjectId: string, subjectKey: string | null | undefined): string {
    return subjectKey
      ? subjectPseudonym(subjectKey, subjectId, SUBJECT_PSEUDONYM_PREFIX)
      : subjectPseudonym(this.gatewayKey, subjectId, GATEWAY_PSEUDONYM_PREFIX);
  }

  /**
   * For one partner request: pseudonyms from the keys its snapshot statement
   * brought (no round trip of its own), each computed once however many
   * events name the subject.
   */
  forRequest(subjectKeys: ReadonlyMap<string, { key: string }>): (subjectId: string) => string {
    return (subjectId) => {
      const own = subjectKeys.get(subjectId);
      if (own) {
        let pseudonym = this.underOwnKey.get(own);
        if (pseudonym === undefined) this.underOwnKey.set(own, (pseudonym = subjectPseudonym(own.key, subjectId, SUBJECT_PSEUDONYM_PREFIX)));
        return pseudonym;
      }
      let pseudonym = this.underGatewayKey.get(subjectId);
      if (pseudonym === undefined) this.underGatewayKey.set(subjectId, (pseudonym = this.gatewayPseudonym(subjectId)));
      return pseudonym;
    };
  }

  /** The pseudonym under the gateway-wide key. */
  gatewayPseudonym(subjectId: string): string {
    return subjectPseudonym(this.gatewayKey, subjectId, GATEWAY_PSEUDONYM_PREFIX);
  }

  /** Pseudonyms for several subjects with one statement (their keys read on `db`, a transaction where it matters). */
  async lookup(db: Sql, subjectIds: readonly string[]): Promise<Map<string, string>> {
    const ids = [...new Set(subjectIds)];
    const keys = await readSubjectKeys(db, ids);
    return new Map(ids.map((id) => [id, this.of(id, keys.get(id))]));
  }

  /** One subject's pseudonym as it would be recorded now. */
  async forSubject(db: Sql, subjectId: string): Promise<string> {
    return (await this.lookup(db, [subjectId])).get(subjectId)!;
  }

  /** Every id the log may name the subject by. */
  async eventIdsOf(db: Sql, subjectId: string): Promise<SubjectEventIds> {
    const keys = await readSubjectKeys(db, [subjectId]);
    const own = keys.get(subjectId);
    const pseudonyms = [this.gatewayPseudonym(subjectId)];
    if (own) pseudonyms.unshift(subjectPseudonym(own, subjectId, SUBJECT_PSEUDONYM_PREFIX));
    return { pseudonyms, plainId: subjectId, plainIdsThroughSeq: this.plainIdsThroughSeq };
  }
}

/**
 * SQL matching events about one subject (alias `e`), with its parameters
 * appended to `params`: its pseudonyms, its plain id only before pseudonyms,
 * and never events hidden by an erasure.
 */
export function subjectEventsWhere(ids: SubjectEventIds, params: unknown[]): string {
  params.push(ids.pseudonyms, ids.plainId, ids.plainIdsThroughSeq);
  const n = params.length;
  return `(e.subject_id = ANY($${n - 2}::text[]) OR (e.subject_id = $${n - 1} AND e.seq <= $${n}::bigint))
    AND NOT EXISTS (SELECT 1 FROM erased_subject_events x WHERE x.seq = e.seq)`;
}

/**
 * Erasure: lists, as hidden from everyday views, the events that still name
 * the subject linkably — by plain id (written before pseudonyms) or by its
 * gateway-wide pseudonym (anyone holding that key can recompute it). The
 * events themselves are never changed. Returns how many were newly hidden.
 */
export async function hideLinkableEvents(db: Sql, pseudonyms: SubjectPseudonyms, subjectId: string, at: Date): Promise<number> {
  const rows = await db.query(
    `INSERT INTO erased_subject_events (seq, erased_at)
     SELECT seq, $4 FROM audit_events WHERE (subject_id = $1 AND seq <= $2::bigint) OR subject_id = $3
     ON CONFLICT (seq) DO NOTHING RETURNING seq`,
    [subjectId, pseudonyms.plainIdsThroughSeq, pseudonyms.gatewayPseudonym(subjectId), at],
  );
  return rows.length;
}
