#!/usr/bin/env node
// `npm run build:console`: builds the web console (packages/console) into
// packages/console/dist with Vite, unless the build is newer than every source
// file, so `npm start` and `npm test` stay fast when nothing changed.
//
//   node scripts/build-console.mjs [--force]
import { spawnSync } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { precompressAssets } from './precompress.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const consoleDir = join(root, 'packages/console');
const built = join(consoleDir, 'dist/index.html');
const SOURCES = ['src', 'index.html', 'vite.config.ts', 'package.json', 'tsconfig.json'];

async function newestMtime(path) {
  const info = await stat(path).catch(() => undefined);
  if (!info) return 0;
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = info.mtimeMs;
  for (const entry of await readdir(path)) newest = Math.max(newest, await newestMtime(join(path, entry)));
  return newest;
}

const force = process.argv.includes('--force');
const builtAt = (await stat(built).catch(() => undefined))?.mtimeMs ?? 0;
let sourcesAt = 0;
for (const source of SOURCES) sourcesAt = Math.max(sourcesAt, await newestMtime(join(consoleDir, source)));
if (!force && builtAt > sourcesAt) {
  console.log('console: packages/console/dist is up to date');
  process.exit(0);
}
const result = spawnSync('npx', ['vite', 'build', '--logLevel', 'warn'], { cwd: consoleDir, stdio: 'inherit' });
if (result.status !== 0) process.exit(result.status ?? 1);
const compressed = await precompressAssets(join(consoleDir, 'dist'));
console.log(`console: built packages/console/dist (${compressed} assets precompressed)`);
