import type { Sql } from './database.js';

export interface CategoryEntry {
  name: string;
  title: string;
  reveals: string;
  titleZh: string;
  revealsZh: string;
}

export interface PurposeEntry {
  name: string;
  title: string;
  titleZh: string;
}

/** The category and purpose registries are data (seeded by a migration), not code. */
export async function listCategories(db: Sql): Promise<CategoryEntry[]> {
  const rows = await db.query<{ name: string; title: string; reveals: string; title_zh: string; reveals_zh: string }>(
    'SELECT * FROM categories ORDER BY sort_order, name',
  );
  return rows.map((r) => ({ name: r.name, title: r.title, reveals: r.reveals, titleZh: r.title_zh, revealsZh: r.reveals_zh }));
}

export async function listPurposes(db: Sql): Promise<PurposeEntry[]> {
  const rows = await db.query<{ name: string; title: string; title_zh: string }>('SELECT * FROM purposes ORDER BY name');
  return rows.map((r) => ({ name: r.name, title: r.title, titleZh: r.title_zh }));
}
