import { request, type Dispatcher } from 'undici';
import type { UpstreamAuth } from '../config.js';
import { SourceUnavailableError } from '../errors.js';

/** Renew a client-credentials token this long before it expires, so no fetch carries one about to lapse. */
const RENEW_BEFORE_MS = 30_000;

/**
 * The Authorization header for upstream requests: a static bearer token, or
 * an OAuth 2.0 client-credentials token (RFC 6749 §4.4, client_secret_basic)
 * fetched once, shared by concurrent fetches and renewed before it expires.
 */
export class UpstreamCredentials {
  private cached: { header: string; renewAt: number } | undefined;
  private pending: Promise<string> | undefined;

  constructor(
    private readonly auth: UpstreamAuth,
    private readonly dispatcher: Dispatcher,
    private readonly timeoutMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async header(): Promise<string> {
    if (this.auth.kind === 'bearer') return `Bearer ${this.auth.token}`;
    if (this.cached && this.now() < this.cached.renewAt) return this.cached.header;
    this.pending ??= this.fetchToken().finally(() => (this.pending = undefined));
    return this.pending;
  }

  /** The upstream refused the token (401): forget it, so the next fetch gets a fresh one. */
  invalidate(): void {
    this.cached = undefined;
  }

  private async fetchToken(): Promise<string> {
    const auth = this.auth as Extract<UpstreamAuth, { kind: 'client_credentials' }>;
    const basic = Buffer.from(`${encodeURIComponent(auth.clientId)}:${encodeURIComponent(auth.clientSecret)}`).toString('base64');
    const form = new URLSearchParams({ grant_type: 'client_credentials', ...(auth.scope ? { scope: auth.scope } : {}) });
    let body: unknown;
    try {
      const res = await request(auth.tokenUrl, {
        method: 'POST',
        dispatcher: this.dispatcher,
        signal: AbortSignal.timeout(this.timeoutMs),
        headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: form.toString(),
      });
      if (res.statusCode !== 200) {
        await res.body.dump();
        throw new SourceUnavailableError('auth');
      }
      body = await res.body.json();
    } catch (err) {
      throw err instanceof SourceUnavailableError ? err : new SourceUnavailableError('auth', err);
    }
    const token = body as { access_token?: unknown; token_type?: unknown; expires_in?: unknown };
    if (typeof token.access_token !== 'string' || !/^bearer$/i.test(String(token.token_type))) throw new SourceUnavailableError('auth');
    const lifetimeMs = typeof token.expires_in === 'number' ? token.expires_in * 1000 : 300_000;
    const header = `Bearer ${token.access_token}`;
    this.cached = { header, renewAt: this.now() + Math.max(0, lifetimeMs - RENEW_BEFORE_MS) };
    return header;
  }
}
