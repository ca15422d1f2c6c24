import { ROOT_CONTEXT, SpanStatusCode, trace } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { COUNTED_REFUSALS, outcomeOfStatus } from '../metrics.js';
import type { Services } from '../services.js';
import { SpanKind, spanTime, traceIdOf, type RequestTelemetry } from '../tracing.js';

const telemetryByRequest = new WeakMap<FastifyRequest, RequestTelemetry>();

/** The request's telemetry record (created by the onRequest hook below). */
export function telemetryOf(request: FastifyRequest): RequestTelemetry {
  let telemetry = telemetryByRequest.get(request);
  if (!telemetry) {
    // Only for a request that failed before routing: it gets a record so the access log still has its line.
    telemetry = { traceContext: ROOT_CONTEXT };
    telemetryByRequest.set(request, telemetry);
  }
  return telemetry;
}

/** The route template, never the URL: ids in paths and query strings stay out of logs, spans and labels. */
function routeOf(request: FastifyRequest): string {
  return request.routeOptions.url ?? 'unmatched';
}

/**
 * Every HTTP request, at the edge: a server span continuing the caller's W3C
 * trace context, then, when the response is sent, the span's status, the
 * latency and refusal metrics, and one JSON access-log line. The line holds
 * the route template and ids, never headers, bodies, tokens or score data.
 */
export function registerRequestTelemetry(app: FastifyInstance, services: Services): void {
  const { tracing, metrics, logger } = services;
  app.addHook('onRequest', async (request) => {
    const route = routeOf(request);
    const callerContext = tracing.extract(request.headers);
    const span = tracing.tracer.startSpan(
      `${request.method} ${route}`,
      {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': request.method, 'http.route': route, 'consentry.request_id': request.id },
        startTime: spanTime(),
      },
      callerContext,
    );
    const traceContext = trace.setSpan(callerContext, span);
    telemetryByRequest.set(request, { traceContext, traceId: traceIdOf(traceContext) });
  });

  app.addHook('onResponse', async (request, reply) => {
    const telemetry = telemetryOf(request);
    const route = routeOf(request);
    const status = reply.statusCode;
    const seconds = reply.elapsedTime / 1000;
    const span = trace.getSpan(telemetry.traceContext);
    span?.setAttribute('http.response.status_code', status);
    if (telemetry.partnerId) span?.setAttribute('consentry.partner.id', telemetry.partnerId);
    if (status >= 500) span?.setStatus({ code: SpanStatusCode.ERROR });
    span?.end(spanTime());

    if (COUNTED_REFUSALS.has(status)) metrics.refusals.inc({ status: String(status), route });
    if (route === '/graphql') {
      metrics.graphqlDuration.observe({ operation_type: telemetry.operationType ?? 'unknown', outcome: outcomeOfStatus(status) }, seconds);
    } else if (route === '/oauth/token') {
      metrics.tokenDuration.observe({ outcome: telemetry.tokenOutcome ?? outcomeOfStatus(status) }, seconds);
    }
    logger.info(
      {
        requestId: request.id,
        traceId: telemetry.traceId,
        method: request.method,
        route,
        status,
        durationMs: Math.round(reply.elapsedTime * 10) / 10,
        partnerId: telemetry.partnerId,
        operationType: telemetry.operationType,
      },
      'request',
    );
  });
}
