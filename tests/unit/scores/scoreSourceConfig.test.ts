import { describe, expect, it } from 'vitest';
import { problemsOf } from '../../fixtures/config.js';
import { loadConfig } from '../../../src/config.js';

const UPSTREAM = { CONSENTRY_SCORE_SOURCE: 'upstream', CONSENTRY_UPSTREAM_URL: 'https://scores.bureau.example/graphql' };

describe('score source configuration', () => {
  it('defaults to the local store', () => {
    expect(loadConfig({}).scoreSource).toEqual({ kind: 'local' });
  });

  it.each([
    [
      'a static bearer token',
      { ...UPSTREAM, CONSENTRY_UPSTREAM_TOKEN: 't0ken' },
      {
        kind: 'upstream',
        url: 'https://scores.bureau.example/graphql',
        auth: { kind: 'bearer', token: 't0ken' },
        timeoutMs: 1500,
        connections: 8,
        breaker: { failures: 5, resetMs: 5000 },
      },
    ],
    [
      'OAuth client credentials, deadline and breaker',
      {
        ...UPSTREAM,
        CONSENTRY_UPSTREAM_TOKEN_URL: 'https://id.bureau.example/token',
        CONSENTRY_UPSTREAM_CLIENT_ID: 'consentry',
        CONSENTRY_UPSTREAM_CLIENT_SECRET: 's3cret',
        CONSENTRY_UPSTREAM_SCOPE: 'scores.read',
        CONSENTRY_UPSTREAM_TIMEOUT_MS: '800',
        CONSENTRY_UPSTREAM_BREAKER_FAILURES: '3',
        CONSENTRY_UPSTREAM_BREAKER_RESET_MS: '10000',
      },
      {
        kind: 'upstream',
        url: 'https://scores.bureau.example/graphql',
        auth: { kind: 'client_credentials', tokenUrl: 'https://id.bureau.example/token', clientId: 'consentry', clientSecret: 's3cret', scope: 'scores.read' },
        timeoutMs: 800,
        connections: 8,
        breaker: { failures: 3, resetMs: 10000 },
      },
    ],
    [
      'plain HTTP to a sidecar on this host',
      { CONSENTRY_SCORE_SOURCE: 'upstream', CONSENTRY_UPSTREAM_URL: 'http://127.0.0.1:9000/graphql', CONSENTRY_UPSTREAM_TOKEN: 't' },
      expect.objectContaining({ url: 'http://127.0.0.1:9000/graphql' }),
    ],
  ])('accepts %s', (_name, env, expected) => {
    expect(loadConfig(env).scoreSource).toEqual(expected);
  });

  it.each([
    ['no URL', { CONSENTRY_SCORE_SOURCE: 'upstream', CONSENTRY_UPSTREAM_TOKEN: 't' }, ['CONSENTRY_UPSTREAM_URL is required when CONSENTRY_SCORE_SOURCE=upstream']],
    [
      'no credentials',
      UPSTREAM,
      ['CONSENTRY_SCORE_SOURCE=upstream needs credentials: CONSENTRY_UPSTREAM_TOKEN, or CONSENTRY_UPSTREAM_TOKEN_URL, CONSENTRY_UPSTREAM_CLIENT_ID and CONSENTRY_UPSTREAM_CLIENT_SECRET'],
    ],
    [
      'both kinds of credentials',
      { ...UPSTREAM, CONSENTRY_UPSTREAM_TOKEN: 't', CONSENTRY_UPSTREAM_CLIENT_ID: 'c' },
      ['Set either CONSENTRY_UPSTREAM_TOKEN or the CONSENTRY_UPSTREAM_TOKEN_URL/CLIENT_ID/CLIENT_SECRET triple, not both'],
    ],
    [
      'plain HTTP across a network',
      { CONSENTRY_SCORE_SOURCE: 'upstream', CONSENTRY_UPSTREAM_URL: 'http://scores.bureau.example/graphql', CONSENTRY_UPSTREAM_TOKEN: 't' },
      ['CONSENTRY_UPSTREAM_URL must be https:// unless it points at this host'],
    ],
    ['an unknown source', { CONSENTRY_SCORE_SOURCE: 'ftp' }, [expect.stringContaining('CONSENTRY_SCORE_SOURCE')]],
  ])('refuses %s', (_name, env, problems) => {
    expect(problemsOf(env)).toEqual(problems);
  });
});
