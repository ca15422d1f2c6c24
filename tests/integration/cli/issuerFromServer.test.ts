import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { createServices } from '../../../src/services.js';
import { createCliStore, runCli } from '../../fixtures/cli.js';
import { STORE_KINDS } from '../../fixtures/stores.js';

describe('the issuer CLI commands stamp', () => {
  it.concurrent.each(STORE_KINDS)('is the one the server serves under, unless CONSENTRY_ISSUER says otherwise, on %s', async (kind) => {
    const store = await createCliStore(kind);
    try {
      // A server started on PORT 5000 without CONSENTRY_ISSUER, as in development.
      await store.withDb((db) => createServices(loadConfig({ ...store.env, NODE_ENV: 'test', LOG_LEVEL: 'silent', PORT: '5000' }), { db, role: 'serve' }));

      const adopted = await runCli(['token', '--role', 'subject', '--json'], store.env);
      expect(adopted.stderr).toBe('');
      expect(decodeJwt(JSON.parse(adopted.stdout).token)).toMatchObject({ iss: 'http://localhost:5000', aud: 'http://localhost:5000' });

      const explicit = await runCli(['token', '--role', 'subject', '--json'], { ...store.env, CONSENTRY_ISSUER: 'https://consentry.example' });
      expect(decodeJwt(JSON.parse(explicit.stdout).token)).toMatchObject({ iss: 'https://consentry.example' });
    } finally {
      await store.cleanup();
    }
  }, 120_000);
});
