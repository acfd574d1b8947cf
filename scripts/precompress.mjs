// Brotli and gzip copies of a console build's assets, written beside each
// file (`app-1a2b.js.br`, `.gz`), so the catalog (@fastify/static,
// preCompressed) sends them to clients that accept them without compressing
// per request. Only text files of at least 1 KiB: smaller ones gain nothing.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';

const TEXT = new Set(['.js', '.css', '.svg', '.json', '.txt', '.map']);
const MIN_BYTES = 1024;
const brotli = promisify(brotliCompress);
const gz = promisify(gzip);

/** Compresses every text file of at least 1 KiB in `dir/assets`; returns how many files it compressed. */
export async function precompressAssets(dir) {
  const assets = join(dir, 'assets');
  const names = await readdir(assets).catch(() => []);
  let count = 0;
  for (const name of names) {
    if (!TEXT.has(extname(name))) continue;
    const file = join(assets, name);
    const body = await readFile(file);
    if (body.length < MIN_BYTES) continue;
    await writeFile(`${file}.br`, await brotli(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
    await writeFile(`${file}.gz`, await gz(body, { level: 9 }));
    count += 1;
  }
  return count;
}
