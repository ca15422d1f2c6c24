import { registryWording } from '../consent/registryWording.js';
import type { Lang } from './i18n.js';

export interface RegistryText {
  categoryTitle(name: string): string;
  categoryReveals(name: string): string;
  purposeTitle(name: string): string;
}

/** Category and purpose wording from the registries, in the page language; unknown names show as they are. */
export async function registryText(db: Parameters<typeof registryWording>[0], lang: Lang): Promise<RegistryText> {
  const { categories, purposes } = await registryWording(db);
  const zh = lang === 'zh-CN';
  const category = new Map(categories.map((c) => [c.name, zh ? { title: c.titleZh, reveals: c.revealsZh } : { title: c.title, reveals: c.reveals }]));
  const purpose = new Map(purposes.map((p) => [p.name, zh ? p.titleZh : p.title]));
  return {
    categoryTitle: (name) => category.get(name)?.title ?? name,
    categoryReveals: (name) => category.get(name)?.reveals ?? '',
    purposeTitle: (name) => purpose.get(name) ?? name,
  };
}
