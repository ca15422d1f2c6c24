import type { Sql } from './database.js';

export type GatewaySettingName = 'issuer';

export async function readGatewaySetting(db: Sql, name: GatewaySettingName): Promise<string | undefined> {
  const [row] = await db.query<{ value: string }>('SELECT value FROM gateway_settings WHERE name = $1', [name]);
  return row?.value;
}

export async function writeGatewaySetting(db: Sql, name: GatewaySettingName, value: string, now: Date): Promise<void> {
  await db.query(
    `INSERT INTO gateway_settings (name, value, updated_at) VALUES ($1, $2, $3)
     ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
    [name, value, now],
  );
}
