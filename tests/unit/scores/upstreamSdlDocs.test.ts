import { readFileSync } from 'node:fs';
import { buildSchema } from 'graphql';
import { describe, expect, it } from 'vitest';

const sdl = readFileSync(new URL('../../../docs/upstream-score-service.graphql', import.meta.url), 'utf8');

describe('the documented upstream SDL', () => {
  it('is valid SDL with the query the gateway sends', () => {
    const field = buildSchema(sdl).getQueryType()!.getFields().scoreSummaries!;
    expect(field.args.map((a) => `${a.name}: ${String(a.type)}`)).toEqual(['ids: [ID!]!']);
  });

  it('is the one the README shows, word for word', () => {
    expect(readFileSync(new URL('../../../README.md', import.meta.url), 'utf8')).toContain(sdl);
  });
});
