import type { ConsentFacts, PartnerFacts } from '../policy/facts.js';
import type { AccessSnapshot, SubjectKey } from './accessSnapshot.js';
import type { SubjectRecord } from './scoreSummaries.js';

interface SubjectFacts {
  consents: ConsentFacts[];
  record?: SubjectRecord;
  stamp?: string;
  key?: SubjectKey;
  /** Current as of this transaction id (see AccessSnapshot.basis); raised when an append confirms these very facts. */
  basis: bigint | null;
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
    const used: SubjectFacts[] = [];
    let basis: bigint | null | undefined;
    for (const id of subjectIds) {
      const facts = entry.subjects.get(id);
      if (!facts) return this.miss();
      used.push(facts);
      if (facts.consents.length) consentsBySubject.set(id, facts.consents);
      if (facts.record) consentingSubjects.set(id, facts.record);
      if (facts.stamp) recordStamps.set(id, facts.stamp);
      if (facts.key) subjectKeys.set(id, facts.key);
      // The oldest basis holds for all of them.
      if (basis === undefined || facts.basis === null || (basis !== null && facts.basis < basis)) basis = facts.basis;
    }
    // Most recently used last: eviction takes from the front.
    this.partners.delete(partnerId);
    this.partners.set(partnerId, entry);
    this.counts.hits++;
    return {
      partner: entry.partner,
      consentsBySubject,
      consentingSubjects,
      recordStamps,
      subjectKeys,
      cached: true,
      basis: basis ?? null,
      confirm: confirming(used),
    };
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
    const stored: SubjectFacts[] = [];
    for (const id of subjectIds) {
      if (!entry.subjects.has(id)) this.size++;
      const facts: SubjectFacts = {
        consents: snapshot.consentsBySubject.get(id) ?? [],
        record: snapshot.consentingSubjects.get(id),
        stamp: snapshot.recordStamps.get(id),
        key: snapshot.subjectKeys.get(id),
        basis: snapshot.basis,
      };
      entry.subjects.set(id, facts);
      stored.push(facts);
    }
    snapshot.confirm = confirming(stored);
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

/**
 * Raises the basis of exactly these facts objects: a later read may have
 * replaced some of them in the cache meanwhile, and what the append confirmed
 * says nothing about facts it was not sent.
 */
function confirming(used: readonly SubjectFacts[]): (basis: bigint) => void {
  return (basis) => {
    for (const facts of used) if (facts.basis === null || facts.basis < basis) facts.basis = basis;
  };
}
