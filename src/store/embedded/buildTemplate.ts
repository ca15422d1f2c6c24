import { openDatabase } from '../database.js';
import { saveEngineTemplate } from './engineTemplate.js';

/**
 * Build step: makes the migrated empty-database image that fresh embedded
 * databases start from (see engineTemplate.ts). Run by `npm run build`.
 */
const db = await openDatabase({ kind: 'pglite', dataDir: '' }, { inMemory: true, fromTemplate: false });
try {
  const info = await saveEngineTemplate(await db.engine!.dump());
  console.log(`embedded database image: PGlite ${info.pglite}, ${info.migrations.length} migrations`);
} finally {
  await db.close();
}
