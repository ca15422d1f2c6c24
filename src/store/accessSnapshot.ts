import type { ConsentFacts, PartnerFacts } from '../policy/facts.js';
import { Coalescer, type GroupListener } from './coalescer.js';
import type { AccessFactsCache } from './accessFactsCache.js';
import type { Sql } from './database.js';
import type { DocumentPolicy } from './trustedDocuments.js';
import { subjectFromRow, type SubjectRecord, type SubjectRow } from './scoreSummaries.js';

export interface AccessSnapshot {
  partner: PartnerFacts | null;
  consentsBySubject: Map<string, ConsentFacts[]>;
  /**
   * Records of the asked subjects that hold a live consent to this partner,
   * when the local store is the score source (empty otherwise). Read here to
   * save a round trip, but nothing in them leaves the gateway before the
   * decision and its audit commit; subjects that never consented to this
   * partner are not read at all.
   */
  consentingSubjects: Map<string, SubjectRecord>;
  /** Row versions of each consenting subject's record, for the audit append to check the record is still current. */
  recordStamps: Map<string, string>;
  /** Pseudonym keys of the asked subjects that have one (hex), and the version of each key's row (see FactsCheck). */
  subjectKeys: Map<string, SubjectKey>;
  /** Whether these facts come from this process's cache rather than a read made for this request. */
  cached: boolean;
  /**
   * The subjects' facts are current as of this transaction id (the xmin of
   * the snapshot they were read in, or of a later check that confirmed
   * them): every transaction before it had ended. Null: not known.
   */
  basis: bigint | null;
  /** Moves the basis of the facts used here forward, once the audit append has confirmed them as of `basis`. */
  confirm?: (basis: bigint) => void;
  /**
   * Read with fresh facts only (a cached snapshot leaves it out): the partner's
   * trusted-documents mode and whether the request's document is registered
   * for it (looked up only in that mode).
   */
  documents?: DocumentPolicy;
}

/**
 * The facts a request's decisions were made from, in the form the checked
 * audit append compares with the database (audit_append_checked): the
 * partner's state, the exact set of live consents of each asked subject to
 * the partner, and the version of each record read.
 */
export interface FactsCheck {
  partnerId: string;
  status: string;
  scopes: readonly string[];
  purposes: readonly string[];
  subjects: { id: string; consents: string[]; stamp: string | null; keyStamp: string | null }[];
  /**
   * The subjects' facts' basis (see AccessSnapshot): when no change to them
   * since is recorded (fact_changes), the append skips comparing them one by one.
   */
  basis: string | null;
  /**
   * The trusted-documents standing the request was let through on: the
   * partner's mode and the hash of its document (registered for it, when the
   * mode is trusted documents only). Null when not checked.
   */
  trustedDocumentsOnly: boolean | null;
  documentHash: string | null;
}

/** A subject's pseudonym key as read, with its row's version: an erasure destroys it, and the check notices. */
export interface SubjectKey {
  key: string;
  stamp: string;
}

/** The check for `snapshot`; consents whose expiry the request has just recorded are no longer live. */
export function factsCheck(
  snapshot: AccessSnapshot,
  subjectIds: readonly string[],
  expired: ReadonlySet<string>,
  documents?: { trustedDocumentsOnly: boolean; hash: string },
): FactsCheck {
  const partner = snapshot.partner!;
  return {
    partnerId: partner.id,
    status: partner.status,
    scopes: partner.approvedScopes,
    purposes: partner.approvedPurposes,
    subjects: subjectIds.map((id) => ({
      id,
      consents: (snapshot.consentsBySubject.get(id) ?? []).map((c) => c.id).filter((c) => !expired.has(c)),
      stamp: snapshot.recordStamps.get(id) ?? null,
      keyStamp: snapshot.subjectKeys.get(id)?.stamp ?? null,
    })),
    basis: snapshot.basis === null ? null : snapshot.basis.toString(),
    trustedDocumentsOnly: documents?.trustedDocumentsOnly ?? null,
    documentHash: documents?.hash ?? null,
  };
}

/** What one partner request asks the store for. */
export interface SnapshotAsk {
  partnerId: string;
  subjectIds: readonly string[];
  /** SHA-256 (hex) of the request's document, for the partner's trusted-documents standing. */
  documentHash?: string;
}

/**
 * Everything a partner request needs, in one statement whatever the number of
 * subjects: the partner's current state (so a suspension or a withdrawn scope
 * applies to tokens already issued), every unrevoked consent of the asked
 * subjects to this partner, and the data of those subjects. Several requests'
 * asks can share the statement; each gets only its own partner's rows.
 * What is read here may be served again from the process's cache: the audit
 * append checks it is still current (see FactsCheck), so a revocation that
 * has returned is seen by the next request on every replica all the same.
 */
export async function loadAccessSnapshots(db: Sql, asks: readonly SnapshotAsk[], withSubjectData = true): Promise<AccessSnapshot[]> {
  const rows = await db.query<{ ord: number } & SnapshotRow>(
    `WITH ask AS (
       SELECT a.ord, a.partner_id, a.subject_ids, a.document_hash
       FROM jsonb_to_recordset($1::jsonb) AS a(ord int, partner_id text, subject_ids text[], document_hash text)
     ), live AS (
       -- One index probe per (partner, subject): arrays of 1,000 ids are unnested, never scanned per row.
       SELECT ask.ord, c.id, c.subject_id, c.purpose, c.categories, c.expires_at, c.revoked_at
       FROM ask CROSS JOIN LATERAL unnest(ask.subject_ids) AS asked(subject_id)
       CROSS JOIN LATERAL (
         SELECT * FROM consents c
         WHERE c.partner_id = ask.partner_id AND c.subject_id = asked.subject_id
           AND c.revoked_at IS NULL AND c.expiry_recorded_at IS NULL) c
     )
     SELECT ask.ord, p.status, p.scopes, p.purposes, p.trusted_documents_only,
            -- Every transaction below this id had ended when this statement's snapshot was taken (see FactsCheck).
            pg_snapshot_xmin(pg_current_snapshot())::text AS basis,
            -- Probed only for a trusted-documents-only partner: every other partner's read pays nothing for it.
            CASE WHEN p.trusted_documents_only
              THEN EXISTS (SELECT 1 FROM partner_trusted_documents d WHERE d.partner_id = ask.partner_id AND d.hash = ask.document_hash)
              ELSE false END AS document_registered,
            COALESCE((SELECT json_agg(json_build_object(
                        'id', l.id, 'subjectId', l.subject_id, 'purpose', l.purpose, 'categories', l.categories,
                        'expiresAt', l.expires_at, 'revokedAt', l.revoked_at))
                      FROM live l WHERE l.ord = ask.ord), '[]'::json) AS consents,
            ${withSubjectData ? SUBJECT_DATA : `'[]'::json`} AS subjects,
            ${SUBJECT_KEYS} AS subject_keys
     FROM ask LEFT JOIN partners p ON p.id = ask.partner_id`,
    [JSON.stringify(asks.map((a, ord) => ({ ord, partner_id: a.partnerId, subject_ids: a.subjectIds, document_hash: a.documentHash ?? null })))],
  );
  const byOrd = new Map(rows.map((r) => [r.ord, r]));
  return asks.map((ask, ord) => snapshotFrom(ask.partnerId, byOrd.get(ord)));
}

/** The consenting subjects' records, read with the facts when the local store is the score source. */
const SUBJECT_DATA = `COALESCE((SELECT json_agg(json_build_object(
                        'id', s.id, 'identity_verified', s.identity_verified, 'identity_level', s.identity_level,
                        'identity_verified_at', s.identity_verified_at, 'value', ss.value, 'band', ss.band,
                        'dimensions', ss.dimensions, 'factors', ss.factors, 'history', ss.history,
                        'as_of', ss.as_of, 'model', ss.model,
                        'stamp', s.xmin::text || '/' || COALESCE(ss.xmin::text, '-')))
                      FROM (SELECT DISTINCT l.subject_id FROM live l WHERE l.ord = ask.ord) consenting
                      JOIN subjects s ON s.id = consenting.subject_id
                      LEFT JOIN score_summaries ss ON ss.subject_id = s.id), '[]'::json)`;

/** The asked subjects' pseudonym keys, read here so the audit events cost no extra round trip. */
const SUBJECT_KEYS = `COALESCE((SELECT json_object_agg(k.subject_id, json_build_object('key', encode(k.key, 'hex'), 'stamp', k.xmin::text))
                      FROM unnest(ask.subject_ids) AS asked(subject_id)
                      JOIN subject_keys k ON k.subject_id = asked.subject_id), '{}'::json)`;

interface SnapshotRow {
  /** Null when the partner does not exist. */
  status: PartnerFacts['status'] | null;
  basis: string;
  scopes: string[];
  purposes: string[];
  consents: RawConsent[];
  subjects: (SubjectRow & { stamp: string })[];
  subject_keys: Record<string, SubjectKey>;
  trusted_documents_only: boolean | null;
  document_registered: boolean;
}

function snapshotFrom(partnerId: string, row: SnapshotRow | undefined): AccessSnapshot {
  const consentsBySubject = new Map<string, ConsentFacts[]>();
  const consentingSubjects = new Map<string, SubjectRecord>();
  const recordStamps = new Map<string, string>();
  const subjectKeys = new Map(Object.entries(row?.subject_keys ?? {}));
  const basis = row ? BigInt(row.basis) : null;
  if (!row?.status) return { partner: null, consentsBySubject, consentingSubjects, recordStamps, subjectKeys, cached: false, basis };
  for (const c of row.consents) {
    const facts: ConsentFacts = {
      id: c.id,
      subjectId: c.subjectId,
      partnerId,
      purpose: c.purpose,
      categories: c.categories,
      expiresAt: new Date(c.expiresAt),
      revokedAt: c.revokedAt ? new Date(c.revokedAt) : null,
    };
    const list = consentsBySubject.get(c.subjectId);
    if (list) list.push(facts);
    else consentsBySubject.set(c.subjectId, [facts]);
  }
  for (const s of row.subjects) {
    consentingSubjects.set(s.id, subjectFromRow(s));
    recordStamps.set(s.id, s.stamp);
  }
  return {
    partner: { id: partnerId, status: row.status, approvedScopes: row.scopes, approvedPurposes: row.purposes },
    consentsBySubject,
    consentingSubjects,
    recordStamps,
    subjectKeys,
    cached: false,
    basis,
    documents: { trustedDocumentsOnly: !!row.trusted_documents_only, registered: row.document_registered },
  };
}

/**
 * Reads access snapshots for concurrent requests together (see Coalescer),
 * and keeps what it read in `cache` for later requests, which the audit
 * append then checks (see FactsCheck).
 */
export class AccessSnapshotReader {
  private readonly reads: Coalescer<SnapshotAsk, AccessSnapshot>;

  constructor(
    db: Sql,
    options: { withSubjectData: boolean } = { withSubjectData: true },
    private readonly cache?: AccessFactsCache,
  ) {
    this.reads = new Coalescer((asks) => loadAccessSnapshots(db, asks, options.withSubjectData));
  }

  /** What earlier reads found for these subjects, if they found all of them. */
  cached(partnerId: string, subjectIds: readonly string[]): AccessSnapshot | undefined {
    return this.cache?.lookup(partnerId, subjectIds);
  }

  /** Reads from the store; `joined` learns how many requests share the statement (tracing). */
  async read(partnerId: string, subjectIds: readonly string[], joined?: GroupListener, documentHash?: string): Promise<AccessSnapshot> {
    const snapshot = await this.reads.submit({ partnerId, subjectIds, documentHash }, joined);
    this.cache?.store(subjectIds, snapshot);
    return snapshot;
  }

  /** Cache hits and misses so far (/metrics). */
  get cacheCounts(): { hits: number; misses: number } {
    return this.cache?.counts ?? { hits: 0, misses: 0 };
  }
}

interface RawConsent {
  id: string;
  subjectId: string;
  purpose: string;
  categories: string[];
  expiresAt: string;
  revokedAt: string | null;
}
