import type { ApolloServerPlugin } from '@apollo/server';
import { trace } from '@opentelemetry/api';
import { isCompositeType, type GraphQLResolveInfo } from 'graphql';
import type { Services } from '../../services.js';
import type { GatewayContext } from '../context.js';
import { isExpectedError } from '../formatError.js';
import { spanTime } from '../../tracing.js';

/**
 * Field spans per request, at most: a 1,000-subject batch resolves tens of
 * thousands of fields, and a trace that size helps nobody while costing the
 * exporter. The request span says how many were left out.
 */
export const MAX_RESOLVER_SPANS = 100;

/** Operation names are the client's own strings; a span attribute, never a metric label, and bounded. */
const MAX_OPERATION_NAME = 100;

/**
 * What the request's trace and logs need from GraphQL: the operation on the
 * request span, a child span per resolver we wrote (default property reads
 * are not worth a span), and unexpected errors logged with the request id
 * and trace id before they are masked. Spans name fields and paths, never
 * values.
 */
export function requestObservabilityPlugin(services: Services): ApolloServerPlugin<GatewayContext> {
  const { tracing, logger } = services;
  return {
    async requestDidStart({ contextValue }) {
      const { telemetry } = contextValue;
      const requestSpan = trace.getSpan(telemetry.traceContext);
      return {
        async didResolveOperation({ operation, operationName }) {
          if (!operation) return;
          telemetry.operationType = operation.operation;
          requestSpan?.setAttribute('graphql.operation.type', operation.operation);
          if (operationName) requestSpan?.setAttribute('graphql.operation.name', operationName.slice(0, MAX_OPERATION_NAME));
        },
        async executionDidStart() {
          if (!tracing.enabled) return;
          let spans = 0;
          return {
            willResolveField({ info }) {
              if (!hasOwnResolver(info)) return;
              if (++spans > MAX_RESOLVER_SPANS) return;
              const span = tracing.tracer.startSpan(
                `resolve ${info.parentType.name}.${info.fieldName}`,
                {
                  attributes: { 'graphql.field.name': info.fieldName, 'graphql.field.type': info.parentType.name, 'graphql.field.path': pathOf(info) },
                  startTime: spanTime(),
                },
                telemetry.traceContext,
              );
              return () => span.end(spanTime());
            },
            async executionDidEnd() {
              if (spans > MAX_RESOLVER_SPANS) requestSpan?.setAttribute('consentry.resolver_spans_dropped', spans - MAX_RESOLVER_SPANS);
            },
          };
        },
        async didEncounterErrors({ errors }) {
          for (const err of errors) {
            if (isExpectedError(err, err.extensions?.code)) continue;
            logger.error(
              { err: err.originalError ?? err, path: err.path, requestId: contextValue.requestId, traceId: telemetry.traceId },
              'unexpected error while handling a GraphQL request',
            );
          }
        },
      };
    },
  };
}

function hasOwnResolver(info: GraphQLResolveInfo): boolean {
  return isCompositeType(info.parentType) && 'getFields' in info.parentType && !!info.parentType.getFields()[info.fieldName]?.resolve;
}

/** Response path with list positions, e.g. subjects.3.score.band (aliases as the client named them). */
function pathOf(info: GraphQLResolveInfo): string {
  const keys: (string | number)[] = [];
  for (let p: GraphQLResolveInfo['path'] | undefined = info.path; p; p = p.prev) keys.unshift(p.key);
  return keys.join('.');
}
