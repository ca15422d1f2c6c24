import { Coalescer } from './coalescer.js';
import type { Sql } from './database.js';

/** One registered operation document of a partner, keyed by the SHA-256 (hex) of its text. */
export interface TrustedDocument {
  partnerId: string;
  hash: string;
  document: string;
  operationNames: string[];
  registeredAt: Date;
}

interface TrustedDocumentRow {
  partner_id: string;
  hash: string;
  document: string;
  operation_names: string[];
  registered_at: Date;
}

const fromRow = (r: TrustedDocumentRow): TrustedDocument => ({
  partnerId: r.partner_id,
  hash: r.hash,
  document: r.document,
  operationNames: r.operation_names,
  registeredAt: new Date(r.registered_at),
});

/** Inserts the documents not yet registered; returns the hashes it added. */
export async function insertTrustedDocuments(db: Sql, partnerId: string, documents: Omit<TrustedDocument, 'partnerId' | 'registeredAt'>[], now: Date): Promise<string[]> {
  if (!documents.length) return [];
  const rows = await db.query<{ hash: string }>(
    `INSERT INTO partner_trusted_documents (partner_id, hash, document, operation_names, registered_at)
     SELECT $1, d.hash, d.document, d.operation_names, $3
     FROM jsonb_to_recordset($2::jsonb) AS d(hash text, document text, operation_names jsonb)
     ON CONFLICT (partner_id, hash) DO NOTHING
     RETURNING hash`,
    [partnerId, JSON.stringify(documents.map((d) => ({ hash: d.hash, document: d.document, operation_names: d.operationNames }))), now],
  );
  return rows.map((r) => r.hash);
}

export async function listTrustedDocuments(db: Sql, partnerId: string): Promise<TrustedDocument[]> {
  const rows = await db.query<TrustedDocumentRow>('SELECT * FROM partner_trusted_documents WHERE partner_id = $1 ORDER BY registered_at, hash', [partnerId]);
  return rows.map(fromRow);
}

/** Removes the given documents; returns the hashes that were registered. */
export async function deleteTrustedDocuments(db: Sql, partnerId: string, hashes: readonly string[]): Promise<string[]> {
  const rows = await db.query<{ hash: string }>(
    'DELETE FROM partner_trusted_documents WHERE partner_id = $1 AND hash = ANY($2::text[]) RETURNING hash',
    [partnerId, [...hashes]],
  );
  return rows.map((r) => r.hash);
}

/** The text registered under a hash, by any partner: the hash names the text, so any registration of it is the same text. */
export async function trustedDocumentText(db: Sql, hash: string): Promise<string | undefined> {
  const [row] = await db.query<{ document: string }>('SELECT document FROM partner_trusted_documents WHERE hash = $1 LIMIT 1', [hash]);
  return row?.document;
}

/** One request's question: the partner, and the hash of the document it runs. */
export interface DocumentPolicyAsk {
  partnerId: string;
  hash: string;
}

/** The partner's current mode and whether that hash is registered for it; null when the partner does not exist. */
export interface DocumentPolicy {
  trustedDocumentsOnly: boolean;
  registered: boolean;
}

/**
 * Reads, for concurrent requests together, each partner's mode and whether
 * the document it sent is registered for it: one indexed statement per group,
 * never cached, so a change committed by the CLI or another replica applies to
 * the next request, as a suspension does. (Subject reads get the same two
 * facts from the access snapshot instead; this serves the other partner
 * operations.)
 */
export class DocumentPolicyReader {
  private readonly reads: Coalescer<DocumentPolicyAsk, DocumentPolicy | null>;

  constructor(db: Sql) {
    this.reads = new Coalescer(async (asks) => {
      const rows = await db.query<{ ord: number; trusted_only: boolean | null; registered: boolean }>(
        `SELECT a.ord, p.trusted_documents_only AS trusted_only, (d.hash IS NOT NULL) AS registered
         FROM jsonb_to_recordset($1::jsonb) AS a(ord int, partner_id text, hash text)
         LEFT JOIN partners p ON p.id = a.partner_id
         LEFT JOIN partner_trusted_documents d ON d.partner_id = a.partner_id AND d.hash = a.hash`,
        [JSON.stringify(asks.map((a, ord) => ({ ord, partner_id: a.partnerId, hash: a.hash })))],
      );
      const byOrd = new Map(rows.map((r) => [r.ord, r]));
      return asks.map((_, ord) => {
        const row = byOrd.get(ord);
        return row && row.trusted_only !== null ? { trustedDocumentsOnly: row.trusted_only, registered: row.registered } : null;
      });
    });
  }

  read(ask: DocumentPolicyAsk): Promise<DocumentPolicy | null> {
    return this.reads.submit(ask);
  }
}
