/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
export type DepositWaiverCheckQueryVariables = Exact<{
  subjectId: string | number;
  purpose: string;
  threshold: number;
}>;


export type DepositWaiverCheckQuery = { subject: { id: string, score: { atLeast: boolean | null, asOf: string | null } | null } | null };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}

export const DepositWaiverCheckDocument = new TypedDocumentString(`
    query DepositWaiverCheck($subjectId: ID!, $purpose: String!, $threshold: Int!) {
  subject(id: $subjectId, purpose: $purpose) {
    id
    score {
      atLeast(threshold: $threshold)
      asOf
    }
  }
}
    `, {"hash":"sha256:61c9361f1f3648e0c6a6d084cedd87f592cb4ea1fd0cc36680c190c08c2a79cb"}) as unknown as TypedDocumentString<DepositWaiverCheckQuery, DepositWaiverCheckQueryVariables>;