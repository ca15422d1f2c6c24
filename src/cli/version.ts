import { readFileSync } from 'node:fs';

/**
 * The package's version. Looked up by walking up from this file, because the
 * compiled CLI (dist/src/cli) and the source run by tsx (src/cli) sit at
 * different depths below package.json.
 */
export function packageVersion(): string {
  let dir = new URL('.', import.meta.url);
  for (let depth = 0; depth < 5; depth++) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'consentry' && pkg.version) return pkg.version;
    } catch {
      // no package.json at this level; keep walking up
    }
    dir = new URL('..', dir);
  }
  return 'unknown';
}
