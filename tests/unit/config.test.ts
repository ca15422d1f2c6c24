import { describe, expect, it } from 'vitest';
import { problemsOf } from '../fixtures/config.js';
import { loadConfig } from '../../src/config.js';

const TRUSTED_ISSUERS_SHAPE =
  'CONSENTRY_TRUSTED_ISSUERS must be a JSON array of {"issuer": URL, "jwksUri": URL, "audience"?: string, "clientId"?: string, "clientSecret"?: string}';

describe('loadConfig', () => {
  it('refuses to start in production without an explicit issuer, and says so', () => {
    expect(problemsOf({ NODE_ENV: 'production' })).toEqual([
      'CONSENTRY_ISSUER must be set when NODE_ENV=production: the public https URL partners reach the gateway at',
    ]);
    expect(loadConfig({ NODE_ENV: 'production', CONSENTRY_ISSUER: 'https://consentry.example/' })).toMatchObject({
      issuer: 'https://consentry.example',
      issuerExplicit: true,
    });
    expect(loadConfig({ PORT: '5000' })).toMatchObject({ issuer: 'http://localhost:5000', issuerExplicit: false });
  });

  it('defaults to the embedded database in ./data on port 4000', () => {
    expect(loadConfig({})).toMatchObject({
      nodeEnv: 'development',
      port: 4000,
      host: '0.0.0.0',
      database: { kind: 'pglite', dataDir: './data' },
      issuer: 'http://localhost:4000',
      trustedIssuers: [],
      demoDir: './demo-credentials',
      logLevel: 'info',
    });
  });

  it.each([
    ['a postgres:// URL selects PostgreSQL', { DATABASE_URL: 'postgres://app@db:5432/consentry' }, { database: { kind: 'postgres', url: 'postgres://app@db:5432/consentry', poolSize: 10, connectTimeoutMs: 5000 } }],
    [
      'PostgreSQL pool size and connect timeout',
      { DATABASE_URL: 'postgres://db/c', DATABASE_POOL_SIZE: '4', DATABASE_CONNECT_TIMEOUT_MS: '30000' },
      { database: { kind: 'postgres', url: 'postgres://db/c', poolSize: 4, connectTimeoutMs: 30000 } },
    ],
    ['postgresql:// works too', { DATABASE_URL: 'postgresql://db/consentry' }, { database: { kind: 'postgres', url: 'postgresql://db/consentry' } }],
    ['CONSENTRY_DATA_DIR moves the embedded database', { CONSENTRY_DATA_DIR: '/var/lib/consentry' }, { database: { kind: 'pglite', dataDir: '/var/lib/consentry' } }],
    ['the issuer follows PORT', { PORT: '8080' }, { port: 8080, issuer: 'http://localhost:8080' }],
    ['a trailing slash is dropped from the issuer', { CONSENTRY_ISSUER: 'https://gw.example/' }, { issuer: 'https://gw.example' }],
    ['CONSENTRY_DEMO_DIR', { CONSENTRY_DEMO_DIR: '/tmp/demo' }, { demoDir: '/tmp/demo' }],
    ['CONSENTRY_METRICS_TOKEN', { CONSENTRY_METRICS_TOKEN: 'm'.repeat(32) }, { metricsToken: 'm'.repeat(32) }],
    ['retention defaults: 30 days for score data and unanswered requests, applied hourly', {}, { retention: { scoreDays: 30, requestDays: 30, intervalSeconds: 3600 } }],
    [
      'retention settings',
      { CONSENTRY_RETENTION_SCORE_DAYS: '90', CONSENTRY_RETENTION_REQUEST_DAYS: '14', CONSENTRY_RETENTION_INTERVAL_SECONDS: '600' },
      { retention: { scoreDays: 90, requestDays: 14, intervalSeconds: 600 } },
    ],
    [
      'trusted issuers as JSON',
      { CONSENTRY_TRUSTED_ISSUERS: '[{"issuer":"https://id.example","jwksUri":"https://id.example/jwks"}]' },
      { trustedIssuers: [{ issuer: 'https://id.example', jwksUri: 'https://id.example/jwks' }] },
    ],
  ])('%s', (_name, env, expected) => {
    expect(loadConfig(env)).toMatchObject(expected);
  });

  it.each([
    ['DATABASE_URL of another engine', { DATABASE_URL: 'mysql://x' }, ['DATABASE_URL must be a postgres:// or postgresql:// URL']],
    ['DATABASE_URL that is not a URL', { DATABASE_URL: 'not a url' }, ['DATABASE_URL must be a postgres:// or postgresql:// URL']],
    ['a non-numeric PORT', { PORT: 'abc' }, ['PORT must be a whole number, got "abc"']],
    ['a negative PORT', { PORT: '-1' }, ['PORT must be a whole number, got "-1"']],
    ['PORT out of range', { PORT: '70000' }, ['PORT must be between 0 and 65535, got 70000']],
    ['CONSENTRY_TRUSTED_ISSUERS that is not JSON', { CONSENTRY_TRUSTED_ISSUERS: '{' }, [TRUSTED_ISSUERS_SHAPE]],
    ['CONSENTRY_TRUSTED_ISSUERS of the wrong shape', { CONSENTRY_TRUSTED_ISSUERS: '[{"issuer":"nope"}]' }, [TRUSTED_ISSUERS_SHAPE]],
    ['CONSENTRY_ISSUER that is not http(s)', { CONSENTRY_ISSUER: 'ftp://gw.example' }, ['CONSENTRY_ISSUER must be a http:// or https:// URL']],
    ['a connect timeout below 100 ms', { DATABASE_CONNECT_TIMEOUT_MS: '10' }, ['DATABASE_CONNECT_TIMEOUT_MS must be between 100 and 600000, got 10']],
    ['REDIS_URL of another scheme', { REDIS_URL: 'http://cache' }, ['REDIS_URL must be a redis:// or rediss:// URL']],
    ['a retention of zero days', { CONSENTRY_RETENTION_SCORE_DAYS: '0' }, ['CONSENTRY_RETENTION_SCORE_DAYS must be between 1 and 3650, got 0']],
    [
      'a guessable CONSENTRY_METRICS_TOKEN',
      { CONSENTRY_METRICS_TOKEN: 'short' },
      ['CONSENTRY_METRICS_TOKEN must be 32 to 256 printable ASCII characters without spaces'],
    ],
  ])('refuses %s', (_name, env, problems) => {
    expect(problemsOf(env)).toEqual(problems);
  });

  it('reports every problem at once, in one message', () => {
    const env = { PORT: 'x', DATABASE_URL: 'mysql://x', CONSENTRY_TRUSTED_ISSUERS: '{' };
    expect(problemsOf(env)).toEqual([
      'PORT must be a whole number, got "x"',
      'DATABASE_URL must be a postgres:// or postgresql:// URL',
      TRUSTED_ISSUERS_SHAPE,
    ]);
    expect(() => loadConfig(env)).toThrow(
      `Invalid configuration:\n  PORT must be a whole number, got "x"\n  DATABASE_URL must be a postgres:// or postgresql:// URL\n  ${TRUSTED_ISSUERS_SHAPE}`,
    );
  });
});
