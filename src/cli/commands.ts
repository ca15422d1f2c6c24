import type { Command } from 'commander';
import { registerServe } from './serve.js';

/** Every command, in help order. */
export function registerCommands(program: Command): void {
  registerServe(program);
}
