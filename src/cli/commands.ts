import type { Command } from 'commander';
import { registerAudit } from './audit.js';
import { registerConsent } from './consent.js';
import { addExamples } from './examples.js';
import { registerKeys } from './keys.js';
import { registerMigrate } from './migrate.js';
import { registerPartner } from './partner.js';
import { registerReceipt } from './receipt.js';
import { registerScores } from './scores.js';
import { registerSeedDemo } from './seedDemo.js';
import { registerServe } from './serve.js';
import { registerSubject } from './subject.js';
import { registerToken } from './token.js';

/** Every command, in help order. Each lives in its own file. */
export function registerCommands(program: Command): void {
  registerServe(program);
  registerMigrate(program);
  registerSeedDemo(program);
  registerPartner(program);
  registerConsent(program);
  registerSubject(program);
  registerScores(program);
  registerToken(program);
  registerKeys(program);
  registerReceipt(program);
  registerAudit(program);
  addExamples(program);
}
