import type { Config } from './config.js';
import type { Sql } from './store/database.js';
import { readGatewaySetting, writeGatewaySetting } from './store/gatewaySettings.js';

/**
 * The issuer a process works under. The server records the one it serves
 * under; any other process (a CLI command) given no CONSENTRY_ISSUER adopts
 * that recorded one, so tokens, receipts, checkpoints and exports name the
 * issuer partners and verifiers actually see. With CONSENTRY_ISSUER set (always,
 * in production) the configuration wins.
 */
export async function settleIssuer(db: Sql, config: Config, role: 'serve' | 'command', now: Date): Promise<Config> {
  if (role === 'serve') {
    await writeGatewaySetting(db, 'issuer', config.issuer, now);
    return config;
  }
  if (config.issuerExplicit) return config;
  const recorded = await readGatewaySetting(db, 'issuer');
  return recorded && recorded !== config.issuer ? { ...config, issuer: recorded } : config;
}
