import { describe, expect, it } from 'vitest';
import { fromAcceptLanguage } from '../../../src/web/language.js';

describe('page language from Accept-Language', () => {
  it.each([
    [undefined, 'en'],
    ['', 'en'],
    ['zh-CN,zh;q=0.9', 'zh-CN'],
    ['zh', 'zh-CN'],
    ['zh-TW', 'zh-CN'],
    ['en-GB,en;q=0.9', 'en'],
    ['fr-FR,zh;q=0.8,en;q=0.5', 'zh-CN'],
    ['fr-FR,en;q=0.8,zh;q=0.5', 'en'],
    ['en;q=0.4, zh-Hans;q=0.9', 'zh-CN'],
    ['zh;q=0, en', 'en'],
    ['de', 'en'],
  ] as const)('%s → %s', (header, lang) => {
    expect(fromAcceptLanguage(header)).toBe(lang);
  });
});
