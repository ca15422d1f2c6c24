import type { FastifyRequest } from 'fastify';
import { PersistedDocumentNotFoundError, type ConsentryError } from '../errors.js';
import { documentHashOf, type TrustedDocumentLookup } from '../partners/trustedDocuments.js';

/** What a GraphQL request carries to name its document: the text, a `documentId`, or an APQ hash. */
interface DocumentParams {
  text?: string;
  documentId?: string;
  persistedQueryHash?: string;
}

/**
 * Persisted documents at the HTTP edge, before Apollo parses anything: a
 * registered operation named by hash (`documentId`, as `sha256:<hex>` or
 * bare hex, or Apollo's `extensions.persistedQuery.sha256Hash`) is swapped
 * for its text, so Apollo runs it as if it had been sent. An unknown
 * `documentId` is refused here (`PERSISTED_QUERY_NOT_FOUND`); an unknown APQ
 * hash is left to Apollo's automatic persisted queries. Whether this partner
 * may run the document at all (trusted documents only) is decided later with
 * its other facts, read fresh, before anything is decided or recorded.
 */
export async function resolvePersistedDocument(lookup: TrustedDocumentLookup, request: FastifyRequest): Promise<ConsentryError | undefined> {
  const sent = documentParams(request);
  const named = sent.documentId ?? sent.persistedQueryHash;
  if (named === undefined) return undefined;
  const hash = documentHashOf(named);
  if (!hash) return new PersistedDocumentNotFoundError('A document id must be "sha256:" followed by the 64 hex digits of the SHA-256 of the document.');
  const text = await lookup.text(hash);
  if (text !== undefined) {
    useRegisteredText(request, text);
    return undefined;
  }
  return sent.documentId !== undefined ? new PersistedDocumentNotFoundError(`No operation with id sha256:${hash} is registered.`) : undefined;
}

function documentParams(request: FastifyRequest): DocumentParams {
  const params = (request.method === 'GET' ? request.query : request.body) as Record<string, unknown> | undefined;
  if (!params || typeof params !== 'object') return {};
  let extensions = params.extensions;
  if (typeof extensions === 'string') {
    try {
      extensions = JSON.parse(extensions);
    } catch {
      extensions = undefined; // Apollo reports a malformed extensions parameter itself.
    }
  }
  const persisted = extensions && typeof extensions === 'object' ? (extensions as { persistedQuery?: { sha256Hash?: unknown } }).persistedQuery : undefined;
  return {
    text: typeof params.query === 'string' ? params.query : undefined,
    documentId: typeof params.documentId === 'string' ? params.documentId : undefined,
    persistedQueryHash: typeof persisted?.sha256Hash === 'string' ? persisted.sha256Hash : undefined,
  };
}

/** Rewrites the request as if the client had sent the registered text, without the id Apollo does not know. */
function useRegisteredText(request: FastifyRequest, text: string): void {
  if (request.method !== 'GET') {
    const body = request.body as Record<string, unknown>;
    body.query = text;
    delete body.documentId;
    if (body.extensions && typeof body.extensions === 'object') delete (body.extensions as Record<string, unknown>).persistedQuery;
    return;
  }
  const url = new URL(request.raw.url ?? '/', 'http://gateway.invalid');
  url.searchParams.set('query', text);
  url.searchParams.delete('documentId');
  const extensions = url.searchParams.get('extensions');
  if (extensions) {
    try {
      const parsed = JSON.parse(extensions) as Record<string, unknown>;
      delete parsed.persistedQuery;
      url.searchParams.set('extensions', JSON.stringify(parsed));
    } catch {
      // Left for Apollo to refuse.
    }
  }
  // The Apollo integration reads a GET request's parameters from its URL.
  request.raw.url = url.pathname + url.search;
}
