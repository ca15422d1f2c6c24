import type { Sql } from '../store/database.js';
import { listCategories, listPurposes } from '../store/registries.js';

/** How categories and purposes are worded for the people who consent (English and Simplified Chinese). */
export interface RegistryWording {
  categories: { name: string; title: string; reveals: string; titleZh: string; revealsZh: string }[];
  purposes: { name: string; title: string; titleZh: string }[];
}

export async function registryWording(db: Sql): Promise<RegistryWording> {
  const [categories, purposes] = await Promise.all([listCategories(db), listPurposes(db)]);
  return { categories, purposes };
}
