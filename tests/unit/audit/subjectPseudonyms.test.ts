import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { GATEWAY_PSEUDONYM_PREFIX, SUBJECT_PSEUDONYM_PREFIX, SubjectPseudonyms, subjectEventsWhere, subjectPseudonym } from '../../../src/audit/subjectPseudonyms.js';
import type { Sql } from '../../../src/store/database.js';

describe('subjectPseudonym', () => {
  it.each([
    // The published HMAC-SHA256 example (key "key"), so a re-implementation can check itself against the same vector.
    ['6b6579', 'The quick brown fox jumps over the lazy dog', SUBJECT_PSEUDONYM_PREFIX, 'sp_f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8'],
    [`${'00'.repeat(31)}01`, 's-1001', GATEWAY_PSEUDONYM_PREFIX, 'sg_7210c827c30a8c14117bf99be241f4a4814bb285a4583797c8e20f89ee78de57'],
  ])('HMAC-SHA256 under key %s of %j, hex, after the prefix', (key, id, prefix, expected) => {
    expect(subjectPseudonym(key, id, prefix)).toBe(expected);
  });

  it('hashes the id as UTF-8, and differs by key', () => {
    const key = 'ab'.repeat(32);
    expect(subjectPseudonym(key, '张三-7', 'sp_')).toBe(`sp_${createHmac('sha256', Buffer.from(key, 'hex')).update(Buffer.from('张三-7', 'utf8')).digest('hex')}`);
    expect(subjectPseudonym(key, 's-1', 'sp_')).not.toBe(subjectPseudonym('cd'.repeat(32), 's-1', 'sp_'));
  });
});

describe('subjectEventsWhere', () => {
  it('matches the pseudonyms, the plain id only up to the cut-off, and never hidden events; parameters appended after the caller’s', () => {
    const params: unknown[] = ['first'];
    const sql = subjectEventsWhere({ pseudonyms: ['sp_1', 'sg_2'], plainId: 's-1', plainIdsThroughSeq: '42' }, params);
    expect(params).toEqual(['first', ['sp_1', 'sg_2'], 's-1', '42']);
    expect(sql.replace(/\s+/g, ' ')).toBe(
      '(e.subject_id = ANY($2::text[]) OR (e.subject_id = $3 AND e.seq <= $4::bigint)) AND NOT EXISTS (SELECT 1 FROM erased_subject_events x WHERE x.seq = e.seq)',
    );
  });
});

describe('SubjectPseudonyms', () => {
  const GATEWAY_KEY = '11'.repeat(32);
  /** The settings as the store holds them; no database needed. */
  const settings = { query: async () => [{ name: 'subject_pseudonym_key', value: GATEWAY_KEY }, { name: 'plain_subject_ids_through_seq', value: '7' }] } as unknown as Sql;

  it('names a subject under its own key when the request brought one, else under the gateway-wide key', async () => {
    const pseudonyms = await SubjectPseudonyms.load(settings, new Date());
    const own = '22'.repeat(32);
    const of = pseudonyms.forRequest(new Map([['known', { key: own }]]));
    expect([of('known'), of('stranger'), of('known')]).toEqual([
      subjectPseudonym(own, 'known', 'sp_'),
      subjectPseudonym(GATEWAY_KEY, 'stranger', 'sg_'),
      subjectPseudonym(own, 'known', 'sp_'),
    ]);
    expect(pseudonyms.gatewayPseudonym('known')).toBe(subjectPseudonym(GATEWAY_KEY, 'known', 'sg_'));
    expect(pseudonyms.plainIdsThroughSeq).toBe('7');
  });
});
