import type { FastifyRequest } from 'fastify';
import { DocumentNotTrustedError, PersistedDocumentNotFoundError, type ConsentryError } from '../errors.js';
import { documentHashOf, sha256Hex, type TrustedDocumentLookup } from '../partners/trustedDocuments.js';

/** What a GraphQL request carries to name its document: the text, a `documentId`, or an APQ hash. */
interface DocumentParams {
  text?: string;
  documentId?: string;
  persistedQueryHash?: string;
}

/**
 * Trusted documents at the HTTP edge, after authentication and before Apollo
 * parses anything: a partner's registered operation named by hash
 * (`documentId`, as `sha256:<hex>` or bare hex, or Apollo's
 * `extensions.persistedQuery.sha256Hash`) is swapped for its registered text;
 * a partner marked "trusted documents only" that sends anything else is
 * refused (`DOCUMENT_NOT_TRUSTED`, or `PERSISTED_QUERY_NOT_FOUND` for an
 * unknown hash), before any decision or audit work. Other partners' documents
 * pass as they are, and an unregistered APQ hash is left to Apollo's own
 * automatic persisted queries. Returns the refusal, or undefined to go on.
 */
export async function gateDocument(lookup: TrustedDocumentLookup, partnerId: string, request: FastifyRequest): Promise<ConsentryError | undefined> {
  const sent = documentParams(request);
  const named = sent.documentId ?? sent.persistedQueryHash;
  const hash = named !== undefined ? documentHashOf(named) : sent.text !== undefined ? sha256Hex(sent.text) : undefined;
  if (named !== undefined && !hash) {
    return new PersistedDocumentNotFoundError('A document id must be "sha256:" followed by the 64 hex digits of the SHA-256 of the document.');
  }
  if (!hash) return undefined; // No document at all: Apollo answers that itself.
  const standing = await lookup.standing(partnerId, hash);
  // A partner that no longer exists is refused further on, as for any other request.
  if (!standing) return undefined;
  if (standing.registered !== undefined) {
    if (named !== undefined) useRegisteredText(request, standing.registered);
    return undefined;
  }
  if (standing.trustedDocumentsOnly) {
    return named !== undefined && sent.text === undefined
      ? new PersistedDocumentNotFoundError(`No operation with id sha256:${hash} is registered for this partner.`)
      : new DocumentNotTrustedError('This partner runs registered operations only: send the documentId of one (see GET /docs/partners).');
  }
  if (sent.documentId !== undefined) return new PersistedDocumentNotFoundError(`No operation with id sha256:${hash} is registered for this partner.`);
  return undefined;
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
