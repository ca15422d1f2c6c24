import type { Sql } from '../store/database.js';
import { listCategories, listPurposes } from '../store/registries.js';

/** A text in each language the gateway speaks (the consent pages' languages). */
export interface Wording {
  en: string;
  'zh-CN': string;
}

export interface CatalogueCategory {
  name: string;
  title: Wording;
  /** What releasing it tells a partner, as the consumer reads it on the consent page. */
  reveals: Wording;
  /** Schema coordinates (`Type.field`) it opens. */
  fields: string[];
}

export interface CataloguePurpose {
  name: string;
  /** What the consumer is shown as the reason for the request. */
  title: Wording;
}

/** Fields released along with any category of a family (`ScoreSummary.asOf` with any `score.*`). */
export interface CatalogueCompanion {
  field: string;
  releasedWithAnyOf: string;
}

export interface Catalogue {
  categories: CatalogueCategory[];
  purposes: CataloguePurpose[];
  releasedWith: CatalogueCompanion[];
}

/** Which fields each category opens: read from the SDL's directives, passed in by the gateway. */
export interface CatalogueFields {
  categoryOf: ReadonlyMap<string, string>;
  releasedWithAny: ReadonlyMap<string, string>;
}

/**
 * What a partner may ask for and why, from the registries (data, seeded by
 * migrations) joined with the fields each category opens in the schema.
 */
export async function readCatalogue(db: Sql, fields: CatalogueFields): Promise<Catalogue> {
  const [categories, purposes] = await Promise.all([listCategories(db), listPurposes(db)]);
  const fieldsOf = (category: string) => [...fields.categoryOf].filter(([, c]) => c === category).map(([coordinate]) => coordinate);
  return {
    categories: categories.map((c) => ({
      name: c.name,
      title: { en: c.title, 'zh-CN': c.titleZh },
      reveals: { en: c.reveals, 'zh-CN': c.revealsZh },
      fields: fieldsOf(c.name),
    })),
    purposes: purposes.map((p) => ({ name: p.name, title: { en: p.title, 'zh-CN': p.titleZh } })),
    releasedWith: [...fields.releasedWithAny].map(([field, prefix]) => ({ field, releasedWithAnyOf: `${prefix}*` })),
  };
}

/** The registered purpose names: what a `@purpose` argument accepts. */
export async function purposeNames(db: Sql): Promise<string[]> {
  return (await listPurposes(db)).map((p) => p.name);
}
