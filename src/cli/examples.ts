import type { Command } from 'commander';

/**
 * One example per command, shown at the end of its --help. The README's
 * operator section shows the same lines, and a test holds the two together,
 * so they are kept here in one list rather than in each command's file.
 */
export const COMMAND_EXAMPLES: Record<string, string[]> = {
  serve: ['consentry serve', 'PORT=8080 DATABASE_URL=postgres://consentry@db/consentry consentry serve --no-demo'],
  migrate: ['consentry migrate', 'consentry migrate --revert'],
  'seed-demo': ['consentry seed-demo'],
  'partner create': [
    'consentry partner create --name "Acme Rentals" --industry car_rental --scopes score.threshold --purposes deposit_waiver --jwks acme-public.json --redirect-uris https://acme.example/consent/callback',
  ],
  'partner update': [
    'consentry partner update p_1a2b3c4d5e6f7a8b --scopes score.threshold,score.band',
    'consentry partner update p_1a2b3c4d5e6f7a8b --suspend',
    'consentry partner update p_1a2b3c4d5e6f7a8b --trusted-documents-only',
  ],
  'partner documents add': ['consentry partner documents add p_1a2b3c4d5e6f7a8b --manifest src/gql/persisted-documents.json'],
  'partner documents list': ['consentry partner documents list p_1a2b3c4d5e6f7a8b'],
  'partner documents remove': [
    'consentry partner documents remove p_1a2b3c4d5e6f7a8b --hash sha256:0d7e0e2e8f0b5b0a2f5e9d6c1b3a4f5e6d7c8b9a0f1e2d3c4b5a69788796a5b4',
  ],
  'partner list': ['consentry partner list --status active --scope score.band'],
  'partner show': ['consentry partner show p_1a2b3c4d5e6f7a8b'],
  'consent grant': [
    'consentry consent grant --subject s-1001 --partner p_1a2b3c4d5e6f7a8b --purpose deposit_waiver --categories score.threshold --days 90',
  ],
  'consent list': ['consentry consent list --subject s-1001', 'consentry consent list --partner p_1a2b3c4d5e6f7a8b --active'],
  'consent revoke': ['consentry consent revoke 0b6f6c1e-5d0e-4c51-9f39-2f4f0c1d2a3b'],
  'subject show': ['consentry subject show s-1001', 'consentry subject show s-1001 --reveal-scores "complaint 4711: the subject disputes its band"'],
  'subject erase': ['consentry subject erase s-1001 --reason "account closed, erasure asked by letter of 3 March"'],
  'scores import': ['consentry scores import scores.ndjson'],
  token: ['consentry token --role compliance --sub officer-7 --ttl 2h'],
  'keys rotate': ['consentry keys rotate'],
  'receipt verify': ['consentry receipt verify receipt.jws', 'consentry receipt verify - --jwks https://gateway.example/.well-known/jwks.json < receipt.jws'],
  'audit verify': ['consentry audit verify', 'consentry audit verify --file audit.ndjson --jwks gateway-jwks.json'],
  'audit export': ['consentry audit export --format ndjson > audit.ndjson', 'consentry audit export --format csv --from 2026-03-01T00:00:00Z --to 2026-04-01T00:00:00Z'],
  'audit checkpoint': ['consentry audit checkpoint'],
};

/** Every command that does something (not a group), by its path below `consentry`. */
export function leafCommands(program: Command, prefix = ''): Map<string, Command> {
  const leaves = new Map<string, Command>();
  for (const command of program.commands) {
    const path = `${prefix}${command.name()}`;
    if (command.commands.length) for (const [p, c] of leafCommands(command, `${path} `)) leaves.set(p, c);
    else leaves.set(path, command);
  }
  return leaves;
}

export function addExamples(program: Command): void {
  for (const [path, command] of leafCommands(program)) {
    const examples = COMMAND_EXAMPLES[path] ?? [];
    if (examples.length) command.addHelpText('after', `\nExamples:\n${examples.map((e) => `  $ ${e}`).join('\n')}`);
  }
}
