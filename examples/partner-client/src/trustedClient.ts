import type { TypedDocumentString } from './gql/graphql.js';

/** A GraphQL error as the gateway reports it: `extensions.code` says why (CONSENT_REQUIRED, INSUFFICIENT_SCOPE, ...). */
export interface GatewayError {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; [key: string]: unknown };
}

export interface GatewayResult<T> {
  data?: T | null;
  errors?: GatewayError[];
}

/**
 * Runs a generated operation by its id only: the gateway knows the text from
 * the manifest its operator registered, so the document never travels, and a
 * partner marked "trusted documents only" can run nothing else. The id is the
 * client preset's `__meta__.hash` (`sha256:<hex>`), sent as `documentId`
 * (GraphQL over HTTP, persisted documents).
 */
export async function runTrusted<TResult, TVariables>(
  gateway: string,
  token: string,
  document: TypedDocumentString<TResult, TVariables>,
  variables: TVariables,
): Promise<GatewayResult<TResult>> {
  const documentId = document.__meta__?.hash as string | undefined;
  if (!documentId) throw new Error('This document has no hash: generate it with persistedDocuments: true.');
  const res = await fetch(`${gateway}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ documentId, variables }),
  });
  return (await res.json()) as GatewayResult<TResult>;
}
