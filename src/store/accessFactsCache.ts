import type { ConsentFacts, PartnerFacts } from '../policy/facts.js';
import type { AccessSnapshot, SubjectKey } from './accessSnapshot.js';
import type { SubjectRecord } from './scoreSummaries.js';

interface SubjectFacts {
  consents: ConsentFacts[];
  record?: SubjectRecord;
  stamp?: string;
  key?: SubjectKey;
}

interface PartnerEntry {
  partner: PartnerFacts;
  subjects: Map<string, SubjectFacts>;
}

/**
 * Decision facts read for earlier requests, kept in this process so that a
 * request in steady state needs no read at all. Nothing here is trusted: the
 * audit append that records a decision made from these facts also checks,
 * under the chain lock, that they are still what the database holds
 * (audit_append_checked), and a request whose facts moved re-reads and
 * decides again. So the cache can never release what a revocation withdrew;
 * at worst it costs a retry. Bounded by the number of subjects held, the
 * least recently used partners go first.
 */
export class AccessFactsCache {
  private readonly partners = new Map<string, PartnerEntry>();
  private size = 0;
  readonly counts = { hits: 0, misses: 0 };

  constructor(private readonly maxSubjects: number) {}

  /** The facts of every one of `subjectIds`, or undefined when any is missing. */
  lookup(partnerId: string, subjectIds: readonly string[]): AccessSnapshot | undefined {
    const entry = this.partners.get(partnerId);
    // A request naming no subject releases nothing; its partner state (a refusal) is always read afresh.
    if (!entry || subjectIds.length === 0) return this.miss();
    const consentsBySubject = new Map<string, ConsentFacts[]>();
    const consentingSubjects = new Map<string, SubjectRecord>();
    const recordStamps = new Map<string, string>();
    const subjectKeys = new Map<string, SubjectKey>();
    for (const id of subjectIds) {
      const facts = entry.subjects.get(id);
      if (!facts) return this.miss();
      if (facts.consents.length) consentsBySubject.set(id, facts.consents);
      if (facts.record) consentingSubjects.set(id, facts.record);
      if (facts.stamp) recordStamps.set(id, facts.stamp);
      if (facts.key) subjectKeys.set(id, facts.key);
    }
    // Most recently used last: eviction takes from the front.
    this.partners.delete(partnerId);
    this.partners.set(partnerId, entry);
    this.counts.hits++;
    return { partner: entry.partner, consentsBySubject, consentingSubjects, recordStamps, subjectKeys, cached: true };
  }

  /** Keeps what a read found for `subjectIds` (a partner that does not exist is not kept). */
  store(subjectIds: readonly string[], snapshot: AccessSnapshot): void {
    const partner = snapshot.partner;
    if (!partner || subjectIds.length > this.maxSubjects) return;
    let entry = this.partners.get(partner.id);
    if (entry) {
      this.partners.delete(partner.id);
      entry.partner = partner;
    } else entry = { partner, subjects: new Map() };
    this.partners.set(partner.id, entry);
    for (const id of subjectIds) {
      if (!entry.subjects.has(id)) this.size++;
      entry.subjects.set(id, {
        consents: snapshot.consentsBySubject.get(id) ?? [],
        record: snapshot.consentingSubjects.get(id),
        stamp: snapshot.recordStamps.get(id),
        key: snapshot.subjectKeys.get(id),
      });
    }
    this.evict(partner.id);
  }

  private evict(keep: string): void {
    for (const [id, entry] of this.partners) {
      if (this.size <= this.maxSubjects) return;
      if (id === keep) continue;
      this.partners.delete(id);
      this.size -= entry.subjects.size;
    }
    // One partner alone over the bound: start its subjects afresh.
    const entry = this.partners.get(keep);
    if (this.size > this.maxSubjects && entry) {
      this.size -= entry.subjects.size;
      entry.subjects.clear();
    }
  }

  private miss(): undefined {
    this.counts.misses++;
    return undefined;
  }
}
