import { z } from 'zod';

/**
 * The gateway's configuration, read from the environment once at start-up and
 * passed in from there; no other module reads `process.env`.
 */
export interface TrustedIssuer {
  issuer: string;
  jwksUri: string;
  /** Expected `aud` of tokens from this issuer; defaults to the gateway issuer. */
  audience?: string;
  /**
   * The gateway's client id at this issuer. When set, subjects can sign in to
   * the pages through it (authorization code + PKCE, redirect URI
   * `<CONSENTRY_ISSUER>/signin/oidc/callback`). The ID token only starts a
   * page session; it is never accepted as an API bearer token.
   */
  clientId?: string;
  /** The client secret for a confidential client; omit for a public client (PKCE only). */
  clientSecret?: string;
}

/** How the gateway authenticates to an upstream score service. */
export type UpstreamAuth =
  | { kind: 'bearer'; token: string }
  | { kind: 'client_credentials'; tokenUrl: string; clientId: string; clientSecret: string; scope?: string };

/** Where released score data comes from (see README, *Serving from an existing score service*). */
export type ScoreSourceConfig =
  | { kind: 'local' }
  | {
      kind: 'upstream';
      url: string;
      auth: UpstreamAuth;
      /** Deadline of one upstream fetch, connection and answer included. */
      timeoutMs: number;
      /** Keep-alive connections held open to the upstream. */
      connections: number;
      /** Consecutive failed fetches that open the circuit, and how long it stays open before one trial fetch. */
      breaker: { failures: number; resetMs: number };
    };

export interface Config {
  nodeEnv: 'production' | 'development' | 'test';
  port: number;
  host: string;
  database:
    | { kind: 'postgres'; url: string; poolSize: number; connectTimeoutMs: number; statementTimeoutMs: number; lockTimeoutMs: number }
    | { kind: 'pglite'; dataDir: string; statementTimeoutMs: number };
  /** Past these a request fails closed (503), and shutdown stops waiting and exits non-zero. */
  deadlines: { requestMs: number; shutdownMs: number };
  /** Subjects whose decision facts a process keeps between requests (0: none; every request reads). */
  factsCacheSubjects: number;
  /** The gateway's public base URL: `iss` and `aud` of its tokens, and the origin DPoP proofs name. */
  issuer: string;
  /**
   * False when CONSENTRY_ISSUER was not set (development and tests only):
   * then CLI commands adopt the issuer the server last recorded, instead of
   * guessing one from their own PORT.
   */
  issuerExplicit: boolean;
  trustedIssuers: TrustedIssuer[];
  redisUrl?: string;
  logLevel: string;
  /** Where `seed-demo` writes demo partners' private keys and example requests. */
  demoDir: string;
  rateLimit: { points: number; durationSeconds: number };
  /** groupLingerMs: the longest a group commit waits for more requests while other writers share the chain (AuditLog). */
  audit: { checkpointEvery: number; checkpointIntervalSeconds: number; groupLingerMs: number };
  /** Storage limitation (README, Configuration): how long score data and unanswered requests are kept, and how often that is applied. */
  retention: { scoreDays: number; requestDays: number; intervalSeconds: number };
  probing: { windowMinutes: number; maxDenialRate: number; maxDistinctNonConsenting: number; throttle: boolean };
  /**
   * The bearer token `/metrics` requires; unset, `/metrics` is not served.
   * Metrics name every partner and its decision counts, so they are never public.
   */
  metricsToken?: string;
  /**
   * Whether spans are exported (OTLP over HTTP). Decided here from the standard
   * OTEL_* variables; the exporter reads its own endpoint, headers and timeouts
   * from them, and the SDK reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES.
   */
  tracing: { enabled: boolean };
  scoreSource: ScoreSourceConfig;
}

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

const intFrom = (name: string, def: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return def;
      if (!/^\d+$/.test(v)) {
        ctx.addIssue({ code: 'custom', message: `${name} must be a whole number, got "${v}"` });
        return z.NEVER;
      }
      const n = Number(v);
      if (n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `${name} must be between ${min} and ${max}, got ${n}` });
        return z.NEVER;
      }
      return n;
    });

const numberFrom = (name: string, def: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return def;
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0) {
        ctx.addIssue({ code: 'custom', message: `${name} must be a non-negative number, got "${v}"` });
        return z.NEVER;
      }
      return n;
    });

const urlFrom = (name: string, protocols: string[]) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: `${name} must be a ${protocols.map((p) => p.replace(':', '://')).join(' or ')} URL` },
  );

const trustedIssuersFrom = z
  .string()
  .optional()
  .transform((v, ctx): TrustedIssuer[] => {
    if (!v) return [];
    try {
      const parsed = z
        .array(
          z.object({
            issuer: z.string().url(),
            jwksUri: z.string().url(),
            audience: z.string().optional(),
            clientId: z.string().min(1).optional(),
            clientSecret: z.string().min(1).optional(),
          }),
        )
        .parse(JSON.parse(v));
      return parsed;
    } catch {
      ctx.addIssue({
        code: 'custom',
        message:
          'CONSENTRY_TRUSTED_ISSUERS must be a JSON array of {"issuer": URL, "jwksUri": URL, "audience"?: string, "clientId"?: string, "clientSecret"?: string}',
      });
      return z.NEVER;
    }
  });

const envSchema = z.object({
  NODE_ENV: z.enum(['production', 'development', 'test']).optional().default('development'),
  PORT: intFrom('PORT', 4000, 0, 65535),
  HOST: z.string().optional().default('0.0.0.0'),
  DATABASE_URL: urlFrom('DATABASE_URL', ['postgres:', 'postgresql:']).optional(),
  DATABASE_POOL_SIZE: intFrom('DATABASE_POOL_SIZE', 10, 1, 1000),
  DATABASE_CONNECT_TIMEOUT_MS: intFrom('DATABASE_CONNECT_TIMEOUT_MS', 5000, 100, 600_000),
  DATABASE_STATEMENT_TIMEOUT_MS: intFrom('DATABASE_STATEMENT_TIMEOUT_MS', 2000, 100, 3_600_000),
  DATABASE_LOCK_TIMEOUT_MS: intFrom('DATABASE_LOCK_TIMEOUT_MS', 1000, 100, 3_600_000),
  CONSENTRY_REQUEST_TIMEOUT_MS: intFrom('CONSENTRY_REQUEST_TIMEOUT_MS', 5000, 100, 600_000),
  CONSENTRY_SHUTDOWN_TIMEOUT_MS: intFrom('CONSENTRY_SHUTDOWN_TIMEOUT_MS', 10_000, 100, 600_000),
  CONSENTRY_FACTS_CACHE_SUBJECTS: intFrom('CONSENTRY_FACTS_CACHE_SUBJECTS', 50_000, 0, 10_000_000),
  CONSENTRY_DATA_DIR: z.string().optional().default('./data'),
  CONSENTRY_ISSUER: urlFrom('CONSENTRY_ISSUER', ['http:', 'https:']).optional(),
  CONSENTRY_TRUSTED_ISSUERS: trustedIssuersFrom,
  CONSENTRY_DEMO_DIR: z.string().optional().default('./demo-credentials'),
  REDIS_URL: urlFrom('REDIS_URL', ['redis:', 'rediss:']).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional().default('info'),
  CONSENTRY_RATE_LIMIT: intFrom('CONSENTRY_RATE_LIMIT', 6000, 1, 10_000_000),
  CONSENTRY_RATE_WINDOW_SECONDS: intFrom('CONSENTRY_RATE_WINDOW_SECONDS', 60, 1, 86_400),
  CONSENTRY_CHECKPOINT_EVERY: intFrom('CONSENTRY_CHECKPOINT_EVERY', 1000, 1, 10_000_000),
  CONSENTRY_CHECKPOINT_INTERVAL_SECONDS: intFrom('CONSENTRY_CHECKPOINT_INTERVAL_SECONDS', 300, 1, 86_400),
  CONSENTRY_AUDIT_GROUP_LINGER_MS: intFrom('CONSENTRY_AUDIT_GROUP_LINGER_MS', 10, 0, 50),
  CONSENTRY_RETENTION_SCORE_DAYS: intFrom('CONSENTRY_RETENTION_SCORE_DAYS', 30, 1, 3650),
  CONSENTRY_RETENTION_REQUEST_DAYS: intFrom('CONSENTRY_RETENTION_REQUEST_DAYS', 30, 1, 3650),
  CONSENTRY_RETENTION_INTERVAL_SECONDS: intFrom('CONSENTRY_RETENTION_INTERVAL_SECONDS', 3600, 10, 604_800),
  CONSENTRY_PROBING_WINDOW_MINUTES: intFrom('CONSENTRY_PROBING_WINDOW_MINUTES', 60, 1, 10_080),
  CONSENTRY_PROBING_MAX_DENIAL_RATE: numberFrom('CONSENTRY_PROBING_MAX_DENIAL_RATE', 0.5),
  CONSENTRY_PROBING_MAX_NON_CONSENTING: intFrom('CONSENTRY_PROBING_MAX_NON_CONSENTING', 50, 1, 10_000_000),
  CONSENTRY_PROBING_THROTTLE: z.enum(['true', 'false']).optional().default('false'),
  CONSENTRY_METRICS_TOKEN: z
    .string()
    .regex(/^[\x21-\x7e]{32,256}$/, 'CONSENTRY_METRICS_TOKEN must be 32 to 256 printable ASCII characters without spaces')
    .optional(),
  OTEL_SDK_DISABLED: z.enum(['true', 'false', '']).optional(),
  OTEL_TRACES_EXPORTER: z
    .string()
    .optional()
    .refine((v) => !v || ['otlp', 'none'].includes(v), 'OTEL_TRACES_EXPORTER must be "otlp" or "none" (the only exporters the gateway ships)'),
  OTEL_EXPORTER_OTLP_ENDPOINT: urlFrom('OTEL_EXPORTER_OTLP_ENDPOINT', ['http:', 'https:']).optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: urlFrom('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', ['http:', 'https:']).optional(),
  CONSENTRY_SCORE_SOURCE: z.enum(['local', 'upstream']).optional().default('local'),
  CONSENTRY_UPSTREAM_URL: urlFrom('CONSENTRY_UPSTREAM_URL', ['http:', 'https:']).optional(),
  CONSENTRY_UPSTREAM_TOKEN: z.string().min(1).optional(),
  CONSENTRY_UPSTREAM_TOKEN_URL: urlFrom('CONSENTRY_UPSTREAM_TOKEN_URL', ['http:', 'https:']).optional(),
  CONSENTRY_UPSTREAM_CLIENT_ID: z.string().min(1).optional(),
  CONSENTRY_UPSTREAM_CLIENT_SECRET: z.string().min(1).optional(),
  CONSENTRY_UPSTREAM_SCOPE: z.string().min(1).optional(),
  CONSENTRY_UPSTREAM_TIMEOUT_MS: intFrom('CONSENTRY_UPSTREAM_TIMEOUT_MS', 1500, 10, 600_000),
  CONSENTRY_UPSTREAM_CONNECTIONS: intFrom('CONSENTRY_UPSTREAM_CONNECTIONS', 8, 1, 1000),
  CONSENTRY_UPSTREAM_BREAKER_FAILURES: intFrom('CONSENTRY_UPSTREAM_BREAKER_FAILURES', 5, 1, 10_000),
  CONSENTRY_UPSTREAM_BREAKER_RESET_MS: intFrom('CONSENTRY_UPSTREAM_BREAKER_RESET_MS', 5000, 10, 3_600_000),
});

/**
 * Tracing is off unless an operator asked for it: an OTLP endpoint, or
 * OTEL_TRACES_EXPORTER=otlp (the SDK's default endpoint, localhost:4318).
 * OTEL_SDK_DISABLED=true and OTEL_TRACES_EXPORTER=none win over both.
 */
function tracingEnabled(e: z.infer<typeof envSchema>): boolean {
  if (e.OTEL_SDK_DISABLED === 'true' || e.OTEL_TRACES_EXPORTER === 'none') return false;
  return e.OTEL_TRACES_EXPORTER === 'otlp' || !!e.OTEL_EXPORTER_OTLP_ENDPOINT || !!e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
}

type Env = z.infer<typeof envSchema>;

/** Plain HTTP only to a sidecar on the same host: score data and credentials never cross a network in clear. */
function isLoopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === 'localhost' || host === '[::1]' || /^127\./.test(host);
}

function scoreSourceFrom(e: Env): { source?: ScoreSourceConfig; problems: string[] } {
  if (e.CONSENTRY_SCORE_SOURCE === 'local') return { source: { kind: 'local' }, problems: [] };
  const problems: string[] = [];
  const url = e.CONSENTRY_UPSTREAM_URL;
  if (!url) problems.push('CONSENTRY_UPSTREAM_URL is required when CONSENTRY_SCORE_SOURCE=upstream');
  for (const [name, value] of [['CONSENTRY_UPSTREAM_URL', url], ['CONSENTRY_UPSTREAM_TOKEN_URL', e.CONSENTRY_UPSTREAM_TOKEN_URL]] as const) {
    if (value && new URL(value).protocol !== 'https:' && !isLoopback(value)) problems.push(`${name} must be https:// unless it points at this host`);
  }
  let auth: UpstreamAuth | undefined;
  const clientCredentials = [e.CONSENTRY_UPSTREAM_TOKEN_URL, e.CONSENTRY_UPSTREAM_CLIENT_ID, e.CONSENTRY_UPSTREAM_CLIENT_SECRET];
  if (e.CONSENTRY_UPSTREAM_TOKEN && clientCredentials.some(Boolean)) {
    problems.push('Set either CONSENTRY_UPSTREAM_TOKEN or the CONSENTRY_UPSTREAM_TOKEN_URL/CLIENT_ID/CLIENT_SECRET triple, not both');
  } else if (e.CONSENTRY_UPSTREAM_TOKEN) {
    auth = { kind: 'bearer', token: e.CONSENTRY_UPSTREAM_TOKEN };
  } else if (clientCredentials.every(Boolean)) {
    auth = {
      kind: 'client_credentials',
      tokenUrl: e.CONSENTRY_UPSTREAM_TOKEN_URL!,
      clientId: e.CONSENTRY_UPSTREAM_CLIENT_ID!,
      clientSecret: e.CONSENTRY_UPSTREAM_CLIENT_SECRET!,
      ...(e.CONSENTRY_UPSTREAM_SCOPE ? { scope: e.CONSENTRY_UPSTREAM_SCOPE } : {}),
    };
  } else {
    problems.push(
      'CONSENTRY_SCORE_SOURCE=upstream needs credentials: CONSENTRY_UPSTREAM_TOKEN, or CONSENTRY_UPSTREAM_TOKEN_URL, CONSENTRY_UPSTREAM_CLIENT_ID and CONSENTRY_UPSTREAM_CLIENT_SECRET',
    );
  }
  if (problems.length || !url || !auth) return { problems };
  return {
    source: {
      kind: 'upstream',
      url,
      auth,
      timeoutMs: e.CONSENTRY_UPSTREAM_TIMEOUT_MS,
      connections: e.CONSENTRY_UPSTREAM_CONNECTIONS,
      breaker: { failures: e.CONSENTRY_UPSTREAM_BREAKER_FAILURES, resetMs: e.CONSENTRY_UPSTREAM_BREAKER_RESET_MS },
    },
    problems: [],
  };
}

/** Parses and validates the environment; throws ConfigError listing every problem. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const result = envSchema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((i) => (i.path.length && !i.message.includes(String(i.path[0])) ? `${String(i.path[0])}: ${i.message}` : i.message)),
    );
  }
  const e = result.data;
  // Tokens, receipts and exports carry the issuer; a production guess (localhost) would make every one of them unverifiable.
  if (e.NODE_ENV === 'production' && !e.CONSENTRY_ISSUER) {
    throw new ConfigError(['CONSENTRY_ISSUER must be set when NODE_ENV=production: the public https URL partners reach the gateway at']);
  }
  const { source: scoreSource, problems } = scoreSourceFrom(e);
  if (!scoreSource) throw new ConfigError(problems);
  const port = e.PORT;
  return {
    nodeEnv: e.NODE_ENV,
    port,
    host: e.HOST,
    database: e.DATABASE_URL
      ? {
          kind: 'postgres',
          url: e.DATABASE_URL,
          poolSize: e.DATABASE_POOL_SIZE,
          connectTimeoutMs: e.DATABASE_CONNECT_TIMEOUT_MS,
          statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
          lockTimeoutMs: e.DATABASE_LOCK_TIMEOUT_MS,
        }
      : { kind: 'pglite', dataDir: e.CONSENTRY_DATA_DIR, statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS },
    deadlines: { requestMs: e.CONSENTRY_REQUEST_TIMEOUT_MS, shutdownMs: e.CONSENTRY_SHUTDOWN_TIMEOUT_MS },
    factsCacheSubjects: e.CONSENTRY_FACTS_CACHE_SUBJECTS,
    issuer: (e.CONSENTRY_ISSUER ?? `http://localhost:${port}`).replace(/\/$/, ''),
    issuerExplicit: e.CONSENTRY_ISSUER !== undefined,
    trustedIssuers: e.CONSENTRY_TRUSTED_ISSUERS,
    redisUrl: e.REDIS_URL,
    logLevel: e.LOG_LEVEL,
    demoDir: e.CONSENTRY_DEMO_DIR,
    rateLimit: { points: e.CONSENTRY_RATE_LIMIT, durationSeconds: e.CONSENTRY_RATE_WINDOW_SECONDS },
    audit: {
      checkpointEvery: e.CONSENTRY_CHECKPOINT_EVERY,
      checkpointIntervalSeconds: e.CONSENTRY_CHECKPOINT_INTERVAL_SECONDS,
      groupLingerMs: e.CONSENTRY_AUDIT_GROUP_LINGER_MS,
    },
    retention: {
      scoreDays: e.CONSENTRY_RETENTION_SCORE_DAYS,
      requestDays: e.CONSENTRY_RETENTION_REQUEST_DAYS,
      intervalSeconds: e.CONSENTRY_RETENTION_INTERVAL_SECONDS,
    },
    probing: {
      windowMinutes: e.CONSENTRY_PROBING_WINDOW_MINUTES,
      maxDenialRate: e.CONSENTRY_PROBING_MAX_DENIAL_RATE,
      maxDistinctNonConsenting: e.CONSENTRY_PROBING_MAX_NON_CONSENTING,
      throttle: e.CONSENTRY_PROBING_THROTTLE === 'true',
    },
    ...(e.CONSENTRY_METRICS_TOKEN ? { metricsToken: e.CONSENTRY_METRICS_TOKEN } : {}),
    tracing: { enabled: tracingEnabled(e) },
    scoreSource,
  };
}
