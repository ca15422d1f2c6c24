import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { JWK } from 'jose';
import type { DemoPartner } from './demoPartners.js';
import { DEMO_SUBJECT } from './demoScores.js';

export interface DemoCredential {
  partner: DemoPartner;
  kid: string;
  privateJwk: JWK;
}

/**
 * Writes one folder per demo partner (private key, partner.json, a runnable
 * query.mjs and a README) plus an overview README. The private keys are demo
 * keys for a local gateway: readable by the owner only, and never for real use.
 */
export async function writeDemoCredentials(directory: string, issuer: string, credentials: DemoCredential[]): Promise<string> {
  const root = resolve(directory);
  await mkdir(root, { recursive: true, mode: 0o700 });
  for (const c of credentials) {
    const folder = join(root, c.partner.slug);
    await mkdir(folder, { recursive: true, mode: 0o700 });
    await writeSecret(join(folder, 'private-key.json'), `${JSON.stringify(c.privateJwk, null, 2)}\n`);
    await writeFile(join(folder, 'partner.json'), `${JSON.stringify(partnerFile(c, issuer), null, 2)}\n`);
    await writeFile(join(folder, 'query.mjs'), queryScript(c.partner), { mode: 0o755 });
    await writeFile(join(folder, 'README.txt'), partnerReadme(c, issuer));
  }
  await writeFile(join(root, 'README.txt'), overviewReadme(credentials, issuer));
  return root;
}

async function writeSecret(path: string, content: string): Promise<void> {
  await writeFile(path, content, { mode: 0o600 });
  // An existing file keeps its old mode on overwrite.
  await chmod(path, 0o600);
}

function partnerFile(c: DemoCredential, issuer: string) {
  return {
    clientId: c.partner.clientId,
    name: c.partner.name,
    industry: c.partner.industry,
    kid: c.kid,
    scopes: c.partner.scopes,
    purposes: c.partner.purposes,
    redirectUris: c.partner.redirectUris,
    issuer,
    tokenEndpoint: `${issuer}/oauth/token`,
  };
}

/** A partner's whole integration in one dependency-light script: assertion, token, query. */
function queryScript(p: DemoPartner): string {
  return `#!/usr/bin/env node
// ${p.name}: gets an access token with its private key (OAuth 2.0 client_credentials,
// private_key_jwt per RFC 7523), then sends one GraphQL query and prints the response.
//
//   node query.mjs                      # gateway at http://localhost:4000
//   CONSENTRY_URL=http://host:port node query.mjs
//   node query.mjs '<GraphQL document>' ['<variables as JSON>']   # any other operation
//
// The response goes to stdout as JSON; progress notes go to stderr.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';

let jose;
try {
  jose = await import('jose');
} catch {
  console.error("This script needs the 'jose' package: run it from inside the Consentry checkout, or 'npm install jose' next to it.");
  process.exit(1);
}

const QUERY = process.argv[2] ?? ${JSON.stringify(p.example.query)};
const VARIABLES = process.argv[2] ? JSON.parse(process.argv[3] ?? '{}') : ${JSON.stringify(p.example.variables)};

const here = new URL('.', import.meta.url);
const partner = JSON.parse(await readFile(new URL('partner.json', here), 'utf8'));
const privateJwk = JSON.parse(await readFile(new URL('private-key.json', here), 'utf8'));
const gateway = (process.env.CONSENTRY_URL ?? 'http://localhost:4000').replace(/\\/$/, '');

async function call(url, init) {
  let res;
  try {
    res = await fetch(url, init);
  } catch (err) {
    console.error(\`Cannot reach the gateway at \${gateway} (\${err.cause?.code ?? err.message}). Is 'npm start' running? Set CONSENTRY_URL otherwise.\`);
    process.exit(1);
  }
  return { status: res.status, body: await res.json().catch(() => ({})) };
}

// 1. The gateway's metadata (RFC 8414) names its token endpoint: the assertion's audience.
const metadata = await call(\`\${gateway}/.well-known/oauth-authorization-server\`);
const audience = metadata.body.token_endpoint ?? \`\${gateway}/oauth/token\`;

// 2. A client assertion signed with our private key: iss = sub = clientId, short-lived, single-use jti.
const key = await jose.importJWK(privateJwk, 'ES256');
const now = Math.floor(Date.now() / 1000);
const assertion = await new jose.SignJWT({})
  .setProtectedHeader({ alg: 'ES256', kid: partner.kid })
  .setIssuer(partner.clientId)
  .setSubject(partner.clientId)
  .setAudience(audience)
  .setIssuedAt(now)
  .setExpirationTime(now + 120)
  .setJti(randomUUID())
  .sign(key);

// 3. Exchange it for an access token.
const token = await call(\`\${gateway}/oauth/token\`, {
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({
    grant_type: 'client_credentials',
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: assertion,
    scope: partner.scopes.join(' '),
  }),
});
if (token.status !== 200) {
  console.error(\`Token request refused (HTTP \${token.status}):\`, JSON.stringify(token.body));
  process.exit(1);
}
console.error(\`Access token for \${partner.name} (\${partner.clientId}), scope "\${token.body.scope}", valid \${token.body.expires_in} s.\`);

// 4. The query, for purpose "${p.example.purpose}".
const answer = await call(\`\${gateway}/graphql\`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', authorization: \`Bearer \${token.body.access_token}\` },
  body: JSON.stringify({ query: QUERY, variables: VARIABLES }),
});
console.log(JSON.stringify(answer.body, null, 2));
process.exit(answer.status === 200 && answer.body.data ? 0 : 1);
`;
}

function partnerReadme(c: DemoCredential, issuer: string): string {
  const p = c.partner;
  return `${p.name} (demo partner)
${'='.repeat(p.name.length + 15)}

clientId   ${p.clientId}
industry   ${p.industry}
scopes     ${p.scopes.join(' ')}
purposes   ${p.purposes.join(' ')}
key        private-key.json (ES256, kid ${c.kid}); the gateway holds only the public half
issuer     ${issuer}

Run the example (the gateway must be running, e.g. with 'npm start'):

  node query.mjs
  CONSENTRY_URL=http://localhost:4000 node query.mjs

It signs a client assertion with private-key.json, exchanges it at
/oauth/token for a 15-minute access token, and sends this query for
purpose "${p.example.purpose}":

${p.example.query.replace(/^/gm, '  ')}

  variables: ${JSON.stringify(p.example.variables)}

What to expect:
${p.example.expect.map((e) => `  - ${e}`).join('\n')}

Denied fields come back as null with an error whose extensions.code says why;
everything else released is still returned. Pass another operation as the
first argument (and its variables as JSON as the second) to try other fields,
subjects (demo-subject-1 to demo-subject-300) or mutations such as
requestConsent.

These keys are for a local demo only. Never reuse them.
`;
}

function overviewReadme(credentials: DemoCredential[], issuer: string): string {
  return `Consentry demo credentials
==========================

The demo database holds ~300 subjects (demo-subject-1 ... demo-subject-300)
with score summaries, and these partners, one folder each:

${credentials.map((c) => `  ${c.partner.slug.padEnd(26)} ${c.partner.clientId.padEnd(22)} ${c.partner.scopes.join(' ')}  [${c.partner.purposes.join(', ')}]`).join('\n')}

Each folder has the partner's private key, partner.json and query.mjs, a
ready-to-run example that gets a token and queries ${DEMO_SUBJECT}:

  node ${credentials[0]?.partner.slug ?? '<partner>'}/query.mjs

${DEMO_SUBJECT} consented to some partners and some categories only, so the
examples show released fields next to denied ones. To look through the
subject's eyes, mint a subject token and open /me:

  npx consentry token --role subject          # sub defaults to ${DEMO_SUBJECT}

Gateway issuer when seeded: ${issuer}
`;
}
