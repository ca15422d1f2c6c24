import { existsSync, type Dirent } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { migrations } from '../../../migrations/index.js';

/**
 * A fresh embedded database starts from an image of an empty, migrated one,
 * made when the project is built: loading it takes a fraction of the time
 * PGlite's initdb and the migrations take. The image is used only when it was
 * made by the PGlite version installed now; otherwise (or without an image)
 * the engine is created the slow way. Migrations still run after loading, so
 * an image older than the source only costs the migrations it lacks.
 *
 * The image exists twice: as a data directory, which a database on disk
 * starts from with a native file copy (PGlite writing the same 40 MB through
 * its WebAssembly file system takes seconds), and as a tarball, the only form
 * an in-memory engine can load.
 */
export interface TemplateInfo {
  pglite: string;
  migrations: string[];
}

const projectRoot = findProjectRoot(dirname(fileURLToPath(import.meta.url)));
const TEMPLATE_IMAGE = join(projectRoot, 'dist', 'embedded-template.tar.gz');
const TEMPLATE_DIR = join(projectRoot, 'dist', 'embedded-template');
const TEMPLATE_INFO = join(projectRoot, 'dist', 'embedded-template.json');
/** PostgreSQL treats a directory without this file as no database at all: it is copied last. */
const VERSION_FILE = 'PG_VERSION';

/** The image as a tarball, for an in-memory engine. */
export async function loadEngineTemplate(): Promise<Blob | undefined> {
  try {
    if (!existsSync(TEMPLATE_IMAGE) || !(await templateMatches())) return undefined;
    return new Blob([await readFile(TEMPLATE_IMAGE)]);
  } catch {
    return undefined;
  }
}

/**
 * Copies the image's data directory into `dataDir` (which holds no database
 * yet); false when there is no usable image. The version file goes last, so
 * a copy cut short leaves a directory that still counts as fresh and is
 * copied over again on the next start.
 */
export async function copyEngineTemplate(dataDir: string): Promise<boolean> {
  try {
    if (!existsSync(join(TEMPLATE_DIR, VERSION_FILE)) || !(await templateMatches())) return false;
    // Every file at once: the copies run on libuv's threads (fs.cp walks and stats one entry at a time, three times slower).
    const entries = await readdir(TEMPLATE_DIR, { withFileTypes: true, recursive: true });
    const relative = (e: Dirent) => join(e.parentPath, e.name).slice(TEMPLATE_DIR.length + 1);
    const dirs = entries.filter((e) => e.isDirectory()).map(relative).sort();
    for (const dir of dirs) await mkdir(join(dataDir, dir), { recursive: true });
    const files = entries.filter((e) => e.isFile()).map(relative).filter((file) => file !== VERSION_FILE);
    await Promise.all(files.map((file) => copyFile(join(TEMPLATE_DIR, file), join(dataDir, file))));
    await copyFile(join(TEMPLATE_DIR, VERSION_FILE), join(dataDir, VERSION_FILE));
    return true;
  } catch {
    return false;
  }
}

/** Writes both forms of the image (the build step). */
export async function saveEngineTemplate(image: Blob): Promise<TemplateInfo> {
  const info: TemplateInfo = { pglite: installedPGliteVersion(), migrations: migrations.map((m) => m.name) };
  // Written aside and renamed, so a concurrent start never reads half an image.
  await writeFile(`${TEMPLATE_IMAGE}.tmp`, Buffer.from(await image.arrayBuffer()));
  const staging = await mkdtemp(`${TEMPLATE_DIR}.tmp-`);
  const engine = await PGlite.create({ dataDir: staging, loadDataDir: image });
  await engine.close();
  await rm(TEMPLATE_DIR, { recursive: true, force: true });
  await rename(staging, TEMPLATE_DIR);
  await writeFile(TEMPLATE_INFO, JSON.stringify(info));
  await rename(`${TEMPLATE_IMAGE}.tmp`, TEMPLATE_IMAGE);
  return info;
}

async function templateMatches(): Promise<boolean> {
  const info = JSON.parse(await readFile(TEMPLATE_INFO, 'utf8')) as TemplateInfo;
  return info.pglite === installedPGliteVersion();
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
