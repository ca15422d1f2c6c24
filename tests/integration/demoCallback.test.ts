import { afterEach, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../fixtures/gateway.js';

describe('the demo partner callback page', () => {
  let gw: TestGateway | undefined;
  afterEach(() => gw?.close());

  it('shows what the partner was told, escaped', async () => {
    gw = await startGateway('pglite');
    const res = await fetch(`${gw.url}/demo/callback?request_id=${encodeURIComponent('<b>r-1</b>')}&outcome=approved`);
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(body).toContain('Outcome: <strong>approved</strong>');
    expect(body).toContain('&lt;b&gt;r-1&lt;/b&gt;');
  });

  it('is not served in production', async () => {
    gw = await startGateway('pglite', { env: { NODE_ENV: 'production' } });
    expect((await fetch(`${gw.url}/demo/callback?outcome=approved`)).status).toBe(404);
  });
});
