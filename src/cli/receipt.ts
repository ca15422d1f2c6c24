import type { Command } from 'commander';

export function registerReceipt(_program: Command): void {}
