import type { Command } from 'commander';
import type { Services } from '../services.js';
import type { Database } from '../store/database.js';

export async function isDatabaseEmpty(db: Database): Promise<boolean> {
  const [row] = await db.query<{ n: string }>('SELECT count(*) AS n FROM partners');
  return Number(row?.n ?? 0) === 0;
}

export async function seedDemo(_services: Services): Promise<{ directory: string }> {
  throw new Error('not yet implemented');
}

export function registerSeedDemo(_program: Command): void {}
