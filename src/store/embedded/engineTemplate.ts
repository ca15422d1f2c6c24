import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { migrations } from '../../../migrations/index.js';

/**
 * A fresh embedded database starts from an image of an empty, migrated one,
 * made when the project is built: loading it takes a fraction of the time
 * PGlite's initdb and the migrations take. The image is used only when it was
 * made by the PGlite version installed now; otherwise (or without an image)
 * the engine is created the slow way. Migrations still run after loading, so
 * an image older than the source only costs the migrations it lacks.
 */
export interface TemplateInfo {
  pglite: string;
  migrations: string[];
}

const projectRoot = findProjectRoot(dirname(fileURLToPath(import.meta.url)));
export const TEMPLATE_IMAGE = join(projectRoot, 'dist', 'embedded-template.tar.gz');
const TEMPLATE_INFO = join(projectRoot, 'dist', 'embedded-template.json');

export async function loadEngineTemplate(): Promise<Blob | undefined> {
  try {
    if (!existsSync(TEMPLATE_IMAGE)) return undefined;
    const info = JSON.parse(await readFile(TEMPLATE_INFO, 'utf8')) as TemplateInfo;
    if (info.pglite !== installedPGliteVersion()) return undefined;
    return new Blob([await readFile(TEMPLATE_IMAGE)]);
  } catch {
    return undefined;
  }
}

export async function saveEngineTemplate(image: Blob): Promise<TemplateInfo> {
  const info: TemplateInfo = { pglite: installedPGliteVersion(), migrations: migrations.map((m) => m.name) };
  // Written aside and renamed, so a concurrent start never reads half an image.
  await writeFile(`${TEMPLATE_IMAGE}.tmp`, Buffer.from(await image.arrayBuffer()));
  await writeFile(TEMPLATE_INFO, JSON.stringify(info));
  await rename(`${TEMPLATE_IMAGE}.tmp`, TEMPLATE_IMAGE);
  return info;
}

function installedPGliteVersion(): string {
  const require = createRequire(import.meta.url);
  let dir = dirname(require.resolve('@electric-sql/pglite'));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return (require(join(dir, 'package.json')) as { version: string }).version;
}

function findProjectRoot(from: string): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) return from;
    dir = parent;
  }
  return dir;
}
