import {
  context,
  INVALID_SPAN_CONTEXT,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { NodeTracerProvider, SpanExporter } from '@opentelemetry/sdk-trace-node';
import { createRequire } from 'node:module';
import type { Config } from './config.js';

/**
 * The SDK, the exporter and their dependencies take most of a second to load;
 * a gateway with tracing off (the default) never loads them.
 */
const requireSdk = createRequire(import.meta.url);
function tracingSdk() {
  return {
    ...(requireSdk('@opentelemetry/context-async-hooks') as typeof import('@opentelemetry/context-async-hooks')),
    ...(requireSdk('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http')),
    ...(requireSdk('@opentelemetry/resources') as typeof import('@opentelemetry/resources')),
    ...(requireSdk('@opentelemetry/sdk-trace-node') as typeof import('@opentelemetry/sdk-trace-node')),
  };
}

export type { Context, Span };
export { SpanKind };

type Headers = Record<string, string | string[] | undefined>;

/**
 * The gateway's OpenTelemetry tracing: one tracer per gateway instance (so
 * tests can read their own spans), parents passed explicitly from the
 * request down, and W3C trace context in and out.
 *
 * Off, the tracer is a no-op, but an incoming `traceparent` is still
 * continued: logs and audit events then carry the caller's trace id, and
 * upstream calls pass it on.
 */
export interface Tracing {
  readonly enabled: boolean;
  readonly tracer: Tracer;
  /** The caller's trace context from W3C `traceparent`/`tracestate` headers (the root context without them). */
  extract(headers: Headers): Context;
  /** Adds `traceparent`/`tracestate` for `parent` to outgoing headers (an upstream call). */
  inject(parent: Context, headers: Record<string, string>): void;
  /**
   * Runs `work` in a child span of `parent`, ended when it settles; a
   * failure is recorded on the span and rethrown. The span is active while
   * `work` runs, so code below can find it without being passed it.
   */
  inSpan<T>(parent: Context, name: string, attributes: Attributes, work: (span: Span) => Promise<T>, kind?: SpanKind): Promise<T>;
  /** Flushes spans still buffered; called on shutdown. */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** Export to this exporter, synchronously, whatever the configuration says (tests). */
  exporter?: SpanExporter;
}

const propagator = new W3CTraceContextPropagator();
const headerGetter = {
  keys: (carrier: Headers) => Object.keys(carrier),
  get: (carrier: Headers, key: string) => carrier[key],
};

let contextManagerInstalled = false;

/**
 * The time every span of ours starts and ends at. Left to itself the SDK
 * starts a span at Date.now() (whole milliseconds) and measures its end in
 * fractions from there, so two spans' times compare only to the millisecond:
 * one clock for both keeps the order of a request's steps visible.
 */
export const spanTime = (): number => performance.timeOrigin + performance.now();
const NO_SPAN = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** The trace id of `ctx` when it has a valid one (a sampled span of ours, or a caller's traceparent). */
export function traceIdOf(ctx: Context | undefined): string | undefined {
  const spanContext = ctx ? trace.getSpanContext(ctx) : undefined;
  return spanContext && trace.isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
}

export function createTracing(config: Config['tracing'], options: TracingOptions = {}): Tracing {
  const enabled = config.enabled || !!options.exporter;
  let provider: NodeTracerProvider | undefined;
  let tracer: Tracer;
  if (enabled) {
    const { AsyncLocalStorageContextManager, OTLPTraceExporter, NodeTracerProvider, resourceFromAttributes, detectResources, envDetector, SimpleSpanProcessor, BatchSpanProcessor } =
      tracingSdk();
    // Async-local context, once per process: spans opened by code we call (an upstream client) find their parent.
    if (!contextManagerInstalled) {
      context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
      contextManagerInstalled = true;
    }
    const exporter = options.exporter ?? new OTLPTraceExporter();
    provider = new NodeTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'consentry' }).merge(detectResources({ detectors: [envDetector] })),
      // Batching keeps export off the request path; tests read spans as soon as a request ends.
      spanProcessors: [options.exporter ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter)],
    });
    tracer = provider.getTracer('consentry');
  } else {
    // Never registered with a delegate: a no-op tracer whose spans still carry a caller's trace context.
    tracer = new ProxyTracerProvider().getTracer('consentry');
  }
  return {
    enabled,
    tracer,
    extract: (headers) => propagator.extract(ROOT_CONTEXT, headers, headerGetter),
    inject: (parent, headers) =>
      propagator.inject(parent, headers, { set: (carrier: Record<string, string>, key: string, value: string) => (carrier[key] = value) }),
    async inSpan(parent, name, attributes, work, kind = SpanKind.INTERNAL) {
      // Off: no span and no new context per step. The parent's span (a caller's trace context, or none) stands in:
      // it records nothing, and what is sent upstream carries the same trace context a no-op child would.
      if (!enabled) return work(trace.getSpan(parent) ?? NO_SPAN);
      const span = tracer.startSpan(name, { kind, attributes, startTime: spanTime() }, parent);
      try {
        return await context.with(trace.setSpan(parent, span), () => work(span));
      } catch (err) {
        // The kind of failure only: a driver's message can quote the values of a statement.
        const kind = (err as { code?: unknown }).code;
        const label = typeof kind === 'string' ? kind : ((err as Error)?.name ?? 'Error');
        span.recordException({ name: (err as Error)?.name ?? 'Error', message: label });
        span.setStatus({ code: SpanStatusCode.ERROR, message: label });
        throw err;
      } finally {
        span.end(spanTime());
      }
    },
    shutdown: async () => {
      await provider?.shutdown();
    },
  };
}

/**
 * What one HTTP request carries for its trace, its metrics and its access-log
 * line. Created at the HTTP edge; the GraphQL layer fills in what only it knows.
 */
export interface RequestTelemetry {
  /** The request span's context: the parent of every span the request opens. */
  traceContext: Context;
  traceId?: string;
  /** GraphQL operation type, once resolved. */
  operationType?: string;
  /** The authenticated partner, when the caller is one. */
  partnerId?: string;
  /** The token endpoint's answer (issued or an OAuth error code). */
  tokenOutcome?: string;
}
