import type { Command } from 'commander';

export function registerPartner(_program: Command): void {}
