import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical.js';

export type ActorType = 'partner' | 'subject' | 'officer' | 'operator' | 'system';

/** What a caller hands the log; the log adds seq, prevHash and hash. */
export interface AuditEventInput {
  kind: string;
  at: Date;
  actorType: ActorType;
  actorId?: string | null;
  partnerId?: string | null;
  subjectId?: string | null;
  purpose?: string | null;
  requestId?: string | null;
  released?: string[];
  denied?: { category: string; code: string }[];
  consentIds?: string[];
  details?: Record<string, unknown>;
}

/** An event as stored and as exported: every member is part of the hash. */
export interface AuditEvent {
  seq: string;
  at: string;
  kind: string;
  actorType: ActorType;
  actorId: string | null;
  partnerId: string | null;
  subjectId: string | null;
  purpose: string | null;
  requestId: string | null;
  released: string[];
  denied: { category: string; code: string }[];
  consentIds: string[];
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export const GENESIS_HASH = '0'.repeat(64);

/**
 * The largest event the log accepts, as JSON. Rows can never be deleted, so
 * a request must not be able to make one arbitrarily large; an access event
 * with every category and 128-character ids is well under 2 KB.
 */
export const MAX_AUDIT_EVENT_BYTES = 16 * 1024;

/** An event in stored form with its canonical encoding, ready for the sequencer. */
export interface PreparedEvent {
  event: UnplacedEvent;
  parts: CanonicalParts;
}

/** Stored form and canonical parts, computed once per event: the size check and the append both use them. */
export function prepareEvent(input: AuditEventInput): PreparedEvent {
  const event = unplacedEvent(input);
  return { event, parts: canonicalEventParts(event) };
}

/** Why an event may not be written (too large), or undefined. Measured on its canonical encoding. */
export function oversizedEventProblem({ parts }: PreparedEvent): string | undefined {
  const bytes = Buffer.byteLength(parts.before) + Buffer.byteLength(parts.between) + Buffer.byteLength(parts.after);
  return bytes > MAX_AUDIT_EVENT_BYTES ? `audit event of ${bytes} bytes exceeds ${MAX_AUDIT_EVENT_BYTES}` : undefined;
}

/** SHA-256 (hex) of the canonical JSON of the event without its `hash` member (prevHash included). */
export function eventHash(event: Omit<AuditEvent, 'hash'>): string {
  return createHash('sha256').update(canonicalEventJson(event)).digest('hex');
}

const str = JSON.stringify;

/**
 * canonicalJson() of the hashed members, written out with the keys already in
 * canonical order: the same bytes (a unit test holds it to that) without
 * sorting keys for every event on the request path. Only `denied` and
 * `details` have open shapes and go through the general encoder.
 */
export function canonicalEventJson(e: Omit<AuditEvent, 'hash'>): string {
  const { before, between, after } = canonicalEventParts(e);
  return `${before}${str(e.prevHash)}${between}${str(e.seq)}${after}`;
}

/** An event's content before it has a place in the chain. */
export type UnplacedEvent = Omit<AuditEvent, 'seq' | 'prevHash' | 'hash'>;

/**
 * The canonical JSON split around the two members only the sequencer knows:
 * `before` + JSON(prevHash) + `between` + JSON(seq) + `after` is exactly
 * canonicalEventJson(). The database appends with these parts, so it hashes
 * the same bytes the gateway and every verifier do.
 */
export interface CanonicalParts {
  before: string;
  between: string;
  after: string;
}

export function canonicalEventParts(e: UnplacedEvent): CanonicalParts {
  return {
    before:
      `{"actorId":${str(e.actorId)},"actorType":${str(e.actorType)},"at":${str(e.at)},` +
      `"consentIds":${str(e.consentIds)},"denied":${canonicalJson(e.denied)},"details":${canonicalJson(e.details)},` +
      `"kind":${str(e.kind)},"partnerId":${str(e.partnerId)},"prevHash":`,
    between: `,"purpose":${str(e.purpose)},"released":${str(e.released)},"requestId":${str(e.requestId)},"seq":`,
    after: `,"subjectId":${str(e.subjectId)}}`,
  };
}

/** The stored form of an input, every optional member made explicit. */
export function unplacedEvent(input: AuditEventInput): UnplacedEvent {
  return {
    at: input.at.toISOString(),
    kind: input.kind,
    actorType: input.actorType,
    actorId: input.actorId ?? null,
    partnerId: input.partnerId ?? null,
    subjectId: input.subjectId ?? null,
    purpose: input.purpose ?? null,
    requestId: input.requestId ?? null,
    released: input.released ?? [],
    denied: input.denied ?? [],
    consentIds: input.consentIds ?? [],
    details: input.details ?? {},
  };
}

/** Links inputs onto the chain after (seq, hash). Pure: what the sequencer does, for tests and tools. */
export function linkEvents(inputs: readonly AuditEventInput[], head: { seq: bigint; hash: string }): AuditEvent[] {
  let seq = head.seq;
  let prevHash = head.hash;
  return inputs.map((input) => {
    seq += 1n;
    const unhashed: Omit<AuditEvent, 'hash'> = { ...unplacedEvent(input), seq: seq.toString(), prevHash };
    const event = { ...unhashed, hash: eventHash(unhashed) };
    prevHash = event.hash;
    return event;
  });
}
