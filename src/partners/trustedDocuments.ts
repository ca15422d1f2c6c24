import { createHash } from 'node:crypto';
import { BadUserInputError, DocumentNotTrustedError, NotFoundError } from '../errors.js';
import type { Sql } from '../store/database.js';
import {
  deleteTrustedDocuments,
  DocumentPolicyReader,
  insertTrustedDocuments,
  listTrustedDocuments,
  trustedDocumentText,
  type DocumentPolicy,
  type TrustedDocument,
} from '../store/trustedDocuments.js';
import type { PartnerActor, PartnerAdminDeps } from './partnerAdmin.js';

export type { TrustedDocument } from '../store/trustedDocuments.js';

/** One entry of a persisted-documents manifest: the SHA-256 (hex) of the text, and the text. */
export interface ManifestEntry {
  hash: string;
  document: string;
}

/** What the gateway says about a document before it is registered: its operations, or why it cannot run. */
export interface DocumentCheck {
  operationNames: string[];
  /** Each with its line and column, e.g. `line 3, column 7: Cannot query field "x" on type "Subject".` */
  problems: string[];
}

export type DocumentChecker = (document: string) => DocumentCheck;

const SHA256_HEX = /^[0-9a-f]{64}$/;

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * A document id as clients send it: `sha256:<hex>` (the GraphQL-over-HTTP
 * persisted documents form) or bare hex (GraphQL Code Generator's
 * `__meta__.hash`, Apollo's `persistedQuery.sha256Hash`). Undefined when it is
 * neither, or names another algorithm.
 */
export function documentHashOf(id: string): string | undefined {
  const hex = id.startsWith('sha256:') ? id.slice('sha256:'.length) : id;
  const lower = hex.toLowerCase();
  return SHA256_HEX.test(lower) ? lower : undefined;
}

/**
 * The manifest GraphQL Code Generator's client preset writes with
 * `persistedDocuments: true` (`persisted-documents.json`): an object mapping
 * each hash to its document. Every hash must be the SHA-256 of its text.
 */
export function parseManifest(json: unknown): ManifestEntry[] {
  if (!json || typeof json !== 'object' || Array.isArray(json)) {
    throw new BadUserInputError('The manifest must be a JSON object mapping each document hash to its text (persisted-documents.json).', { field: 'manifest' });
  }
  const entries = Object.entries(json as Record<string, unknown>);
  if (!entries.length) throw new BadUserInputError('The manifest holds no documents.', { field: 'manifest' });
  const parsed = entries.map(([id, document]) => {
    if (typeof document !== 'string' || !document.trim()) {
      throw new BadUserInputError(`Manifest entry ${id}: the document must be a non-empty string.`, { field: 'manifest', hash: id });
    }
    const hash = documentHashOf(id);
    if (!hash) {
      throw new BadUserInputError(
        `Manifest entry ${id}: not a SHA-256 hash. Generate the manifest with persistedDocuments: { hashAlgorithm: 'sha256' } (the client preset's default).`,
        { field: 'manifest', hash: id },
      );
    }
    if (sha256Hex(document) !== hash) {
      throw new BadUserInputError(`Manifest entry ${id}: the hash is not the SHA-256 of its document; regenerate the manifest.`, { field: 'manifest', hash: id });
    }
    return { hash, document };
  });
  // The same hash under both spellings (`sha256:<hex>` and bare hex) is one document.
  return [...new Map(parsed.map((e) => [e.hash, e])).values()];
}

/**
 * Registers a partner's documents after checking each against the partner
 * schema; a document with problems refuses the whole manifest, naming each
 * problem with its line. Documents already registered are left as they are.
 * The change and its `partner.changed` audit event commit together.
 */
export async function registerTrustedDocuments(
  deps: PartnerAdminDeps,
  partnerId: string,
  entries: readonly ManifestEntry[],
  check: DocumentChecker,
  actor: PartnerActor,
): Promise<{ added: { hash: string; operationNames: string[] }[]; alreadyRegistered: string[] }> {
  const checked = entries.map((e) => ({ ...e, ...check(e.document) }));
  const refused = checked.filter((c) => c.problems.length);
  if (refused.length) {
    const problems = refused.map((r) => ({ hash: r.hash, operations: r.operationNames, problems: r.problems }));
    throw new BadUserInputError(
      `${refused.length} of ${entries.length} documents do not run against the partner schema:\n${problems
        .map((p) => `  ${p.hash}${p.operations.length ? ` (${p.operations.join(', ')})` : ''}:\n${p.problems.map((x) => `    ${x}`).join('\n')}`)
        .join('\n')}`,
      { field: 'manifest', documents: problems },
    );
  }
  const now = deps.clock();
  return deps.auditLog.transaction(async (tx, record) => {
    await lockPartner(tx, partnerId);
    const addedHashes = new Set(await insertTrustedDocuments(tx, partnerId, checked.map(({ hash, document, operationNames }) => ({ hash, document, operationNames })), now));
    const added = checked.filter((c) => addedHashes.has(c.hash)).map((c) => ({ hash: c.hash, operationNames: c.operationNames }));
    if (added.length) {
      await record([
        { kind: 'partner.changed', at: now, actorType: actor.type, actorId: actor.id, partnerId, details: { change: 'documents.registered', documents: added } },
      ]);
    }
    return { added, alreadyRegistered: checked.filter((c) => !addedHashes.has(c.hash)).map((c) => c.hash) };
  });
}

/** Removes registered documents (by hash, either form); audited like a registration. */
export async function removeTrustedDocuments(deps: PartnerAdminDeps, partnerId: string, ids: readonly string[], actor: PartnerActor): Promise<{ removed: string[]; notRegistered: string[] }> {
  const hashes = ids.map((id) => {
    const hash = documentHashOf(id);
    if (!hash) throw new BadUserInputError(`Not a SHA-256 document hash: ${id}.`, { field: 'hash' });
    return hash;
  });
  const now = deps.clock();
  return deps.auditLog.transaction(async (tx, record) => {
    await lockPartner(tx, partnerId);
    const removed = await deleteTrustedDocuments(tx, partnerId, hashes);
    if (removed.length) {
      await record([
        { kind: 'partner.changed', at: now, actorType: actor.type, actorId: actor.id, partnerId, details: { change: 'documents.removed', hashes: removed } },
      ]);
    }
    return { removed, notRegistered: hashes.filter((h) => !removed.includes(h)) };
  });
}

export async function trustedDocumentsOf(db: Sql, partnerId: string): Promise<{ trustedDocumentsOnly: boolean; documents: TrustedDocument[] }> {
  const [partner] = await db.query<{ trusted_documents_only: boolean }>('SELECT trusted_documents_only FROM partners WHERE id = $1', [partnerId]);
  if (!partner) throw new NotFoundError(`No partner with id ${partnerId}.`);
  return { trustedDocumentsOnly: partner.trusted_documents_only, documents: await listTrustedDocuments(db, partnerId) };
}

async function lockPartner(tx: Sql, partnerId: string): Promise<void> {
  // Serialises document changes with partner updates, so each audit event describes the state it changed.
  const [row] = await tx.query('SELECT 1 FROM partners WHERE id = $1 FOR UPDATE', [partnerId]);
  if (!row) throw new NotFoundError(`No partner with id ${partnerId}.`);
}

/**
 * The trusted-documents rule, on the partner's current standing (read fresh
 * with the request's other facts): a partner marked trusted-documents-only
 * runs only documents registered for it. Null standing (no such partner) is
 * left to the checks that refuse unknown partners.
 */
export function documentRefusal(standing: DocumentPolicy | null): DocumentNotTrustedError | undefined {
  if (!standing?.trustedDocumentsOnly || standing.registered) return undefined;
  return new DocumentNotTrustedError('This partner runs registered operations only: send the documentId of one (see GET /docs/partners).');
}

const TEXT_CACHE_LIMIT = 10_000;

const STANDING_CACHE_LIMIT = 10_000;

/**
 * The per-request questions of trusted documents, answered per process.
 * Registered texts are cached by hash: a hash names exactly one text, so that
 * cache is never stale, and the edge resolves a `documentId` without a round
 * trip once it has seen it. A partner's standing for a document (its mode, and
 * whether that hash is registered for it) is cached too, like the other
 * decision facts: the checked audit append confirms it under the chain lock
 * before anything is released, and a refusal is only ever made on a fresh
 * read. So a mode change or a removal applies to the next request, on every
 * replica, as a suspension does.
 */
export class TrustedDocumentLookup {
  private readonly policies: DocumentPolicyReader;
  private readonly texts = new Map<string, string>();
  private readonly standings = new Map<string, DocumentPolicy>();

  constructor(private readonly db: Sql) {
    this.policies = new DocumentPolicyReader(db);
  }

  /**
   * The partner's mode and whether this document hash is registered for it;
   * null when the partner does not exist. `fresh` skips the cache; a cached
   * standing that would refuse is read again before it is believed.
   */
  async standing(partnerId: string, hash: string, fresh = true): Promise<DocumentPolicy | null> {
    const key = `${partnerId}\n${hash}`;
    const cached = fresh ? undefined : this.standings.get(key);
    if (cached && !documentRefusal(cached)) return cached;
    const read = await this.policies.read({ partnerId, hash });
    if (this.standings.size >= STANDING_CACHE_LIMIT) this.standings.clear();
    if (read) this.standings.set(key, read);
    else this.standings.delete(key);
    return read;
  }

  /** Keeps a standing read with other fresh facts (the access snapshot); returns it. */
  remember(partnerId: string, hash: string, standing: DocumentPolicy): DocumentPolicy {
    if (this.standings.size >= STANDING_CACHE_LIMIT) this.standings.clear();
    this.standings.set(`${partnerId}\n${hash}`, standing);
    return standing;
  }

  /** The text registered (by any partner) under this hash. */
  async text(hash: string): Promise<string | undefined> {
    const cached = this.texts.get(hash);
    if (cached !== undefined) return cached;
    const text = await trustedDocumentText(this.db, hash);
    if (text === undefined) return undefined;
    if (this.texts.size >= TEXT_CACHE_LIMIT) this.texts.clear();
    this.texts.set(hash, text);
    return text;
  }
}
