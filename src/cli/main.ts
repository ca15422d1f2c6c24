#!/usr/bin/env node
import { Command } from 'commander';
import { registerCommands } from './commands.js';

/** `consentry`: the operator's command line. Each command lives in its own file. */
const program = new Command('consentry')
  .description('Consent-aware data-sharing gateway')
  .showHelpAfterError()
  .exitOverride((err) => {
    // commander's own usage errors (unknown option, missing argument): exit 2
    process.exit(err.exitCode === 0 ? 0 : 2);
  });

registerCommands(program);
await program.parseAsync(process.argv);
