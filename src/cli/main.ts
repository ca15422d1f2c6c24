#!/usr/bin/env node
import { Command } from 'commander';
import { registerCommands } from './commands.js';
import { EXIT_USAGE, jsonRequested, processIO, usageErrorOutput } from './output.js';
import { packageVersion } from './version.js';

/** `consentry`: the operator's command line. Each command lives in its own file. */
const json = jsonRequested(process.argv.slice(2));
const version = packageVersion();
const program = new Command('consentry')
  .description('Consent-aware data-sharing gateway')
  .version(json ? JSON.stringify({ version }) : version, '-V, --version', 'print the version (JSON with --json)')
  .showHelpAfterError()
  // Set before the commands are added: each copies its parent's output and exit handling.
  .configureOutput(json ? { outputError: () => {}, writeErr: () => {} } : {})
  .exitOverride((err) => {
    if (err.exitCode === 0) process.exit(0); // --help, --version
    // commander's own usage errors (unknown option, missing argument): exit 2, as JSON under --json
    if (json) processIO.stderr(JSON.stringify(usageErrorOutput(err)));
    process.exit(EXIT_USAGE);
  });

registerCommands(program);
await program.parseAsync(process.argv);
