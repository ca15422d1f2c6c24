import type { Lang } from './i18n.js';

/** The catalogue page's own wording; the category and purpose texts themselves are registry data. */
export interface CatalogueMessages {
  title: string;
  intro: string;
  categories: string;
  category: string;
  reveals: string;
  fields: string;
  releasedWith: (fields: string, family: string) => string;
  purposes: string;
  purpose: string;
  consumerSees: string;
  machineReadable: string;
  schemaLink: string;
}

const en: CatalogueMessages = {
  title: 'Categories and purposes',
  intro:
    'What a partner can ask for and why. A partner reads a field only when the consumer consented to its category for that partner and purpose, and the partner is approved for both.',
  categories: 'Categories',
  category: 'Category',
  reveals: 'What it reveals',
  fields: 'Fields',
  releasedWith: (fields, family) => `${fields} are released along with any ${family} category of the same subject.`,
  purposes: 'Purposes',
  purpose: 'Purpose',
  consumerSees: 'What the consumer is shown',
  machineReadable: 'The same catalogue as JSON',
  schemaLink: 'The partner schema (SDL)',
};

const zhCN: CatalogueMessages = {
  title: '数据类别与用途',
  intro: '合作方可以请求哪些数据以及出于什么用途。只有当消费者已就该类别向该合作方、为该用途授予同意，且合作方已获批该类别和用途时，合作方才能读取相应字段。',
  categories: '数据类别',
  category: '类别',
  reveals: '披露的内容',
  fields: '字段',
  releasedWith: (fields, family) => `${fields} 会在同一主体的任一 ${family} 类别被披露时一并披露。`,
  purposes: '用途',
  purpose: '用途代码',
  consumerSees: '消费者看到的说明',
  machineReadable: 'JSON 格式的同一目录',
  schemaLink: '合作方 GraphQL 模式（SDL）',
};

const CATALOGUE_TEXT: Record<Lang, CatalogueMessages> = { en, 'zh-CN': zhCN };

export function catalogueText(lang: Lang): CatalogueMessages {
  return CATALOGUE_TEXT[lang];
}
