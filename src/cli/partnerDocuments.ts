import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { RoleSchemas } from '../gateway/roleSchemas.js';
import { trustedDocumentChecker } from '../gateway/trustedDocumentCheck.js';
import { purposeNames } from '../partners/catalogue.js';
import { parseManifest, registerTrustedDocuments, removeTrustedDocuments, trustedDocumentsOf } from '../partners/trustedDocuments.js';
import { commaList, printResult, UsageError } from './output.js';
import { operatorId, runCommand, withServices } from './runCommand.js';

/**
 * `consentry partner documents add|list|remove`: a partner's trusted
 * documents, registered from the manifest GraphQL Code Generator's client
 * preset writes (`persisted-documents.json`). `partner update
 * --trusted-documents-only` then makes them the only operations it may run.
 */
export function registerPartnerDocuments(partner: Command): void {
  const documents = partner.command('documents').description("a partner's trusted documents (persisted operations, by SHA-256)");

  documents
    .command('add')
    .description('register the operations of a persisted-documents manifest, each checked against the partner schema first')
    .argument('<id>', "the partner's clientId")
    .requiredOption('--manifest <file>', 'persisted-documents.json from GraphQL Code Generator (client preset, persistedDocuments: true): {"<sha256>": "<document>"}')
    .option('--json', 'machine-readable output')
    .action((id: string, opts: { manifest: string; json?: boolean }) =>
      runCommand(opts.json, async (io) => {
        const entries = parseManifest(await readJsonFile(opts.manifest));
        const result = await withServices(async (services) => {
          const check = trustedDocumentChecker(new RoleSchemas().partner, await purposeNames(services.db));
          const registered = await registerTrustedDocuments(services, id, entries, check, { type: 'operator', id: operatorId() });
          return { ...registered, ...(await trustedDocumentsOf(services.db, id)) };
        });
        const shown = {
          partnerId: id,
          added: result.added.map((a) => ({ hash: a.hash, operations: a.operationNames })),
          alreadyRegistered: result.alreadyRegistered,
          registered: result.documents.length,
          trustedDocumentsOnly: result.trustedDocumentsOnly,
        };
        const lines = [
          `Registered ${shown.added.length} document(s) for ${id}; ${shown.alreadyRegistered.length} were already registered; ${shown.registered} in all.`,
          ...shown.added.map((a) => `  sha256:${a.hash}  ${a.operations.join(', ') || '(anonymous)'}`),
          shown.trustedDocumentsOnly
            ? 'The partner runs registered documents only.'
            : `The partner may still send any document; run "consentry partner update ${id} --trusted-documents-only" to allow only these.`,
        ];
        printResult(io, !!opts.json, shown, lines.join('\n'));
      }),
    );

  documents
    .command('list')
    .description("a partner's registered documents and whether it may send anything else")
    .argument('<id>', "the partner's clientId")
    .option('--json', 'machine-readable output')
    .action((id: string, opts: { json?: boolean }) =>
      runCommand(opts.json, async (io) => {
        const { trustedDocumentsOnly, documents: docs } = await withServices((services) => trustedDocumentsOf(services.db, id));
        const shown = {
          partnerId: id,
          trustedDocumentsOnly,
          documents: docs.map((d) => ({ hash: d.hash, operations: d.operationNames, registeredAt: d.registeredAt.toISOString() })),
        };
        const human = [
          `${id}: ${trustedDocumentsOnly ? 'registered documents only' : 'any document'}; ${docs.length} registered`,
          ...shown.documents.map((d) => `  sha256:${d.hash}  ${d.operations.join(', ') || '(anonymous)'}  registered ${d.registeredAt}`),
        ].join('\n');
        printResult(io, !!opts.json, shown, human);
      }),
    );

  documents
    .command('remove')
    .description('unregister documents by hash; the partner can no longer run them from its next request')
    .argument('<id>', "the partner's clientId")
    .requiredOption('--hash <h1,h2>', 'document hashes, sha256:<hex> or bare hex, comma-separated')
    .option('--json', 'machine-readable output')
    .action((id: string, opts: { hash: string; json?: boolean }) =>
      runCommand(opts.json, async (io) => {
        const hashes = commaList(opts.hash);
        if (!hashes.length) throw new UsageError('--hash needs at least one hash');
        const result = await withServices((services) => removeTrustedDocuments(services, id, hashes, { type: 'operator', id: operatorId() }));
        printResult(
          io,
          !!opts.json,
          { partnerId: id, ...result },
          `Removed ${result.removed.length} document(s) from ${id}${result.notRegistered.length ? `; not registered: ${result.notRegistered.join(', ')}` : ''}.`,
        );
      }),
    );
}

async function readJsonFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read the manifest ${file}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(`${file} is not JSON`);
  }
}
