import { readFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import type { JSONWebKeySet } from 'jose';
import { jwksKids, parsePartnerJwks } from '../auth/partnerJwks.js';
import { changePartner, registerPartner as registerNewPartner } from '../partners/partnerAdmin.js';
import { partnerOverview, type PartnerOverview } from '../partners/partnerOverview.js';
import { DPOP_MODES, listPartners, type DpopMode, type Partner, type PartnerChanges } from '../store/partners.js';
import { commaList, printResult, UsageError } from './output.js';
import { registerPartnerDocuments } from './partnerDocuments.js';
import { operatorId, runCommand, withServices } from './runCommand.js';

interface CreateOptions {
  name: string;
  industry: string;
  scopes: string;
  purposes: string;
  jwks: string;
  contact?: string;
  redirectUris?: string;
  dpop?: DpopMode;
  json?: boolean;
}

interface UpdateOptions {
  name?: string;
  contact?: string;
  scopes?: string;
  purposes?: string;
  jwks?: string;
  redirectUris?: string;
  dpop?: DpopMode;
  suspend?: boolean;
  activate?: boolean;
  trustedDocumentsOnly?: boolean;
  allowAnyDocuments?: boolean;
  json?: boolean;
}

export function registerPartner(program: Command): void {
  const partner = program.command('partner').description('register, change, list and show partners (OAuth clients)');

  partner
    .command('create')
    .description('register a partner with its public keys; prints JSON with its clientId')
    .requiredOption('--name <name>', 'company name shown to subjects on consent pages')
    .requiredOption('--industry <industry>', 'e.g. car_rental, hospitality, consumer_lending')
    .requiredOption('--scopes <a,b>', 'approved categories, comma-separated (e.g. score.threshold,score.band)')
    .requiredOption('--purposes <p,q>', 'approved purposes, comma-separated (e.g. deposit_waiver)')
    .requiredOption('--jwks <file>', 'JSON file {"keys": [...]} with the public keys its client assertions are signed with')
    .option('--contact <contact>', 'who to call about this partner')
    .option('--redirect-uris <u1,u2>', 'where consent pages may send subjects back to (https, or http://localhost)')
    .addOption(dpopOption())
    .option('--json', 'machine-readable output (the output is JSON either way)')
    .action((opts: CreateOptions) =>
      runCommand(opts.json, async (io) => {
        const jwks = await readJwksFile(opts.jwks);
        const created = await withServices((services) =>
          registerNewPartner(
            services,
            {
              name: opts.name,
              industry: opts.industry,
              contact: opts.contact ?? null,
              scopes: commaList(opts.scopes),
              purposes: commaList(opts.purposes),
              jwks,
              redirectUris: opts.redirectUris ? commaList(opts.redirectUris) : [],
              dpop: opts.dpop ?? 'optional',
            },
            { type: 'operator', id: operatorId() },
          ),
        );
        const summary = partnerSummary(created);
        printResult(io, !!opts.json, summary, JSON.stringify(summary, null, 2));
      }),
    );

  partner
    .command('update')
    .description('change a partner; every change is recorded as a partner.changed audit event')
    .argument('<id>', "the partner's clientId")
    .option('--name <name>', 'new company name')
    .option('--contact <contact>', 'new contact')
    .option('--scopes <a,b>', 'replace the approved categories')
    .option('--purposes <p,q>', 'replace the approved purposes')
    .option('--jwks <file>', 'replace the public keys (JSON file {"keys": [...]})')
    .option('--redirect-uris <u1,u2>', 'replace the redirect URIs')
    .addOption(dpopOption())
    .addOption(new Option('--suspend', 'refuse its tokens and queries from now on').conflicts('activate'))
    .addOption(new Option('--activate', 'lift a suspension'))
    .addOption(
      new Option('--trusted-documents-only', 'run only its registered documents (see partner documents add); refuse any other').conflicts('allowAnyDocuments'),
    )
    .addOption(new Option('--allow-any-documents', 'accept any document again'))
    .option('--json', 'machine-readable output')
    .action((id: string, opts: UpdateOptions) =>
      runCommand(opts.json, async (io) => {
        const changes: PartnerChanges = {
          name: opts.name,
          contact: opts.contact,
          scopes: opts.scopes !== undefined ? commaList(opts.scopes) : undefined,
          purposes: opts.purposes !== undefined ? commaList(opts.purposes) : undefined,
          jwks: opts.jwks ? await readJwksFile(opts.jwks) : undefined,
          redirectUris: opts.redirectUris !== undefined ? commaList(opts.redirectUris) : undefined,
          status: opts.suspend ? 'suspended' : opts.activate ? 'active' : undefined,
          dpop: opts.dpop,
          trustedDocumentsOnly: opts.trustedDocumentsOnly ? true : opts.allowAnyDocuments ? false : undefined,
        };
        if (Object.values(changes).every((v) => v === undefined)) {
          throw new UsageError(
            'nothing to change: give at least one of --name, --contact, --scopes, --purposes, --jwks, --redirect-uris, --dpop, --suspend, --activate, --trusted-documents-only, --allow-any-documents',
          );
        }
        const { partner: updated, changed } = await withServices((services) =>
          changePartner(services, id, changes, { type: 'operator', id: operatorId() }),
        );
        const names = Object.keys(changed);
        printResult(
          io,
          !!opts.json,
          { ...partnerSummary(updated), changed },
          names.length ? `Updated ${updated.id}: ${names.join(', ')}` : `Nothing changed: ${updated.id} already had these values.`,
        );
      }),
    );

  partner
    .command('list')
    .description('list partners by name, with their approval and status; filters combine')
    .addOption(new Option('--status <status>', 'only active or only suspended partners').choices(['active', 'suspended']))
    .option('--scope <category>', 'only partners approved for this category')
    .option('--purpose <purpose>', 'only partners approved for this purpose')
    .option('--json', 'machine-readable output: {"partners": [...]}')
    .action((opts: { status?: 'active' | 'suspended'; scope?: string; purpose?: string; json?: boolean }) =>
      runCommand(opts.json, async (io) => {
        const partners = await withServices((services) => listPartners(services.db, { status: opts.status, scope: opts.scope, purpose: opts.purpose }));
        const summaries = partners.map(partnerSummary);
        printResult(io, !!opts.json, { partners: summaries }, describePartnerList(summaries));
      }),
    );

  registerPartnerDocuments(partner);

  partner
    .command('show')
    .description('one partner: approval, keys (kids and algorithms), redirect URIs, status, last token issued, requests over the last day')
    .argument('<id>', "the partner's clientId")
    .option('--json', 'machine-readable output')
    .action((id: string, opts: { json?: boolean }) =>
      runCommand(opts.json, async (io) => {
        const overview = await withServices((services) => partnerOverview(services.db, id, services.clock()));
        const shown = partnerDetails(overview);
        printResult(io, !!opts.json, shown, describePartner(shown));
      }),
    );
}

/** What an operator needs to see about a partner: never key material beyond kids. */
function partnerSummary(p: Partner) {
  return {
    clientId: p.id,
    name: p.name,
    industry: p.industry,
    contact: p.contact,
    scopes: p.scopes,
    purposes: p.purposes,
    redirectUris: p.redirectUris,
    status: p.status,
    dpop: p.dpop,
    trustedDocumentsOnly: p.trustedDocumentsOnly,
    kids: jwksKids(p.jwks),
  };
}

/** RFC 9449 sender-constrained tokens; `required` is what FAPI 2.0 asks of a confidential client. */
function dpopOption(): Option {
  return new Option(
    '--dpop <mode>',
    'DPoP-bound tokens: "required" refuses token requests without a DPoP proof; "optional" (the default) binds a token when a proof is sent',
  ).choices(DPOP_MODES);
}

async function readJwksFile(file: string): Promise<JSONWebKeySet> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read the JWKS file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`${file} is not JSON`);
  }
  return parsePartnerJwks(parsed);
}

function partnerDetails(o: PartnerOverview) {
  return {
    ...partnerSummary(o.partner),
    keys: o.keys,
    createdAt: o.partner.createdAt.toISOString(),
    updatedAt: o.partner.updatedAt.toISOString(),
    lastToken: o.lastToken && {
      issuedAt: o.lastToken.issuedAt.toISOString(),
      expiresAt: o.lastToken.expiresAt.toISOString(),
      scopes: o.lastToken.scopes,
      jti: o.lastToken.jti,
    },
    lastDay: {
      from: o.lastDay.from.toISOString(),
      to: o.lastDay.to.toISOString(),
      requests: o.lastDay.requests,
      accessEvents: o.lastDay.accessEvents,
      distinctSubjects: o.lastDay.distinctSubjects,
      releasedEvents: o.lastDay.releasedEvents,
      deniedEvents: o.lastDay.deniedEvents,
    },
  };
}

function describePartnerList(partners: ReturnType<typeof partnerSummary>[]): string {
  if (!partners.length) return 'No partners match.';
  const width = Math.max(...partners.map((p) => p.clientId.length));
  return partners
    .map((p) => `${p.clientId.padEnd(width)}  ${p.status.padEnd(9)}  ${p.name}\n${' '.repeat(width + 2)}scopes ${p.scopes.join(', ')}; purposes ${p.purposes.join(', ')}`)
    .join('\n');
}

function describePartner(p: ReturnType<typeof partnerDetails>): string {
  const none = '(none)';
  return [
    `${p.name} (${p.clientId}), ${p.industry}: ${p.status}`,
    `  contact        ${p.contact ?? none}`,
    `  scopes         ${p.scopes.join(', ')}`,
    `  purposes       ${p.purposes.join(', ')}`,
    `  redirect URIs  ${p.redirectUris.join(', ') || none}`,
    `  DPoP           ${p.dpop === 'required' ? 'required (tokens are sender-constrained)' : 'optional (bound when a proof is sent)'}`,
    `  documents      ${p.trustedDocumentsOnly ? 'registered documents only' : 'any document'}`,
    `  keys           ${p.keys.map((k) => `${k.kid} (${k.algorithms.join('/') || k.kty})`).join(', ')}`,
    `  last token     ${p.lastToken ? `issued ${p.lastToken.issuedAt} for ${p.lastToken.scopes.join(' ')}, expires ${p.lastToken.expiresAt}` : 'never issued'}`,
    `  last 24 hours  ${p.lastDay.requests} requests, ${p.lastDay.distinctSubjects} subjects; ${p.lastDay.releasedEvents} decisions released data, ${p.lastDay.deniedEvents} denied some`,
    `  registered     ${p.createdAt}, last changed ${p.updatedAt}`,
  ].join('\n');
}
