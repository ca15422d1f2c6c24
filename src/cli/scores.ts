import type { Command } from 'commander';

export function registerScores(_program: Command): void {}
