import { createHash, randomBytes } from 'node:crypto';
import type { TrustedIssuer } from '../config.js';

/** The parts of an issuer's discovery document the sign-in flow uses. */
interface ProviderMetadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  token_endpoint_auth_methods_supported?: string[];
}

/** One authorization request's secrets, kept by the browser (httpOnly cookie) until the callback. */
export interface PendingAuthorization {
  issuer: string;
  state: string;
  nonce: string;
  codeVerifier: string;
  next: string;
}

export class OidcSignInError extends Error {
  readonly code = 'OIDC_SIGN_IN_FAILED';
}

const DISCOVERY_TTL_MS = 60 * 60_000;
const HTTP_TIMEOUT_MS = 10_000;
const random = () => randomBytes(32).toString('base64url');

/**
 * The relying-party side of the OpenID Connect authorization-code flow with
 * PKCE (S256) for one trusted issuer. Endpoints come from the issuer's
 * discovery document, whose `issuer` must be the configured one (mix-up defence).
 */
export class OidcClient {
  private metadata?: { value: ProviderMetadata; fetchedAt: number };

  constructor(
    readonly config: TrustedIssuer & { clientId: string },
    private readonly redirectUri: string,
  ) {}

  async authorizationRequest(next: string, scope = 'openid'): Promise<{ url: string; pending: PendingAuthorization }> {
    const meta = await this.discover();
    const pending: PendingAuthorization = { issuer: this.config.issuer, state: random(), nonce: random(), codeVerifier: random(), next };
    const url = new URL(meta.authorization_endpoint);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: this.config.clientId,
      redirect_uri: this.redirectUri,
      scope,
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: createHash('sha256').update(pending.codeVerifier).digest('base64url'),
      code_challenge_method: 'S256',
    }).toString();
    return { url: url.toString(), pending };
  }

  /** Redeems the code at the token endpoint; returns the ID token. */
  async exchangeCode(code: string, codeVerifier: string): Promise<string> {
    const meta = await this.discover();
    const form = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: this.redirectUri, code_verifier: codeVerifier });
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    const { clientId, clientSecret } = this.config;
    const methods = meta.token_endpoint_auth_methods_supported ?? ['client_secret_basic'];
    if (clientSecret && methods.includes('client_secret_basic')) {
      // RFC 6749 section 2.3.1: both parts form-urlencoded before base64.
      const basic = `${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`;
      headers.authorization = `Basic ${Buffer.from(basic).toString('base64')}`;
    } else {
      form.set('client_id', clientId);
      if (clientSecret) form.set('client_secret', clientSecret);
    }
    const res = await fetch(meta.token_endpoint, { method: 'POST', headers, body: form, signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
    const body = (await res.json().catch(() => ({}))) as { id_token?: unknown; error?: unknown };
    if (!res.ok) throw new OidcSignInError(`The token endpoint refused the code (${String(body.error ?? res.status)}).`);
    if (typeof body.id_token !== 'string') throw new OidcSignInError('The token endpoint returned no ID token.');
    return body.id_token;
  }

  private async discover(): Promise<ProviderMetadata> {
    if (this.metadata && Date.now() - this.metadata.fetchedAt < DISCOVERY_TTL_MS) return this.metadata.value;
    const url = `${this.config.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const res = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
    if (!res.ok) throw new OidcSignInError(`Discovery failed with HTTP ${res.status}.`);
    const meta = (await res.json()) as Partial<ProviderMetadata>;
    if (meta.issuer !== this.config.issuer) throw new OidcSignInError('The discovery document names a different issuer.');
    if (typeof meta.authorization_endpoint !== 'string' || typeof meta.token_endpoint !== 'string') {
      throw new OidcSignInError('The discovery document lacks the authorization or token endpoint.');
    }
    this.metadata = { value: meta as ProviderMetadata, fetchedAt: Date.now() };
    return this.metadata.value;
  }
}
