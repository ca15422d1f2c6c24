import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The layering the README describes, held by the imports themselves: the
 * decision core does no I/O, pages and resolvers reach the store only through
 * domain modules, and no module imports itself back through others.
 */
const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

interface Module {
  file: string;
  /** Project modules imported for their values (import type is erased and creates no runtime edge). */
  values: string[];
  /** Everything imported, project modules as paths relative to src/, packages and node: modules by name. */
  all: string[];
}

function modules(): Module[] {
  const files = (readdirSync(SRC, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts') && !f.includes('generated'));
  return files.map((file) => {
    const text = readFileSync(join(SRC, file), 'utf8');
    const values: string[] = [];
    const all: string[] = [];
    const pattern = /^\s*(import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm;
    for (const m of text.matchAll(pattern)) {
      const spec = m[3] ?? m[4]!;
      const typeOnly = !!m[2];
      const target = spec.startsWith('.') ? relative(SRC, resolve(SRC, dirname(file), spec)).replace(/\.js$/, '.ts') : spec;
      all.push(target);
      if (spec.startsWith('.') && !typeOnly) values.push(target);
    }
    return { file, values, all };
  });
}

const layer = (file: string) => file.split('/')[0]!;

describe('the layering', () => {
  const all = modules();

  it('keeps the decision core pure: policy/ imports only policy/, nothing with I/O', () => {
    const outside = all
      .filter((m) => layer(m.file) === 'policy')
      .flatMap((m) => m.all.filter((t) => layer(t) !== 'policy').map((t) => `${m.file} -> ${t}`));
    expect(outside).toEqual([]);
  });

  it('lets pages and resolvers reach the store only through domain modules', () => {
    const direct = all
      .filter((m) => ['web', 'resolvers'].includes(layer(m.file)))
      .flatMap((m) => m.all.filter((t) => layer(t) === 'store' || t === 'pg').map((t) => `${m.file} -> ${t}`));
    expect(direct).toEqual([]);
  });

  it('has no import cycles', () => {
    const edges = new Map(all.map((m) => [m.file, m.values]));
    const cycles: string[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (file: string, path: string[]) => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'visiting') {
        cycles.push([...path.slice(path.indexOf(file)), file].join(' -> '));
        return;
      }
      state.set(file, 'visiting');
      for (const next of edges.get(file) ?? []) visit(next, [...path, file]);
      state.set(file, 'done');
    };
    for (const m of all) visit(m.file, []);
    expect(cycles).toEqual([]);
  });
});
