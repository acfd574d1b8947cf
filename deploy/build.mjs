#!/usr/bin/env node
// `npm run build`: bundles each process of vreg into dist/ with esbuild (the
// one tsx already brings), so a container runs plain JavaScript: no tsx, no
// TypeScript, no node_modules but the native modules that cannot be bundled.
//
//   dist/vreg.mjs              entry: `node dist/vreg.mjs gateway|fetcher|catalog|embedded`
//   dist/healthcheck.mjs       exit 0 when the local /healthz answers 200
//   dist/{gateway,fetcher,catalog,embedded}.mjs + dist/chunks/  the bundles
//   dist/node_modules/         runtime closure of the external (native) modules
//   dist/console/              the web console (packages/console built with Vite), served at /console/
//
// Development (`npm start`, `npm test`) keeps running the TypeScript with tsx;
// this is only for images and for anyone who wants plain JS.
//
//   node deploy/build.mjs [--outdir DIR]   (default: dist)
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { precompressAssets } from '../scripts/precompress.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({ options: { outdir: { type: 'string', default: join(root, 'dist') } } });
const out = resolve(args.outdir);
// esbuild is not a direct dependency: resolve it from tsx, which pins it.
const requireFromTsx = createRequire(createRequire(join(root, 'package.json')).resolve('tsx/package.json'));
const esbuild = requireFromTsx('esbuild');

/** Native modules: shipped as files in dist/node_modules, with their runtime dependencies. */
const NATIVE = ['better-sqlite3'];
/** Optional peers that mongodb loads only when configured (and catches when absent). */
const OPTIONAL_ABSENT = [
  'kerberos',
  '@mongodb-js/zstd',
  'snappy',
  'socks',
  'aws4',
  'mongodb-client-encryption',
  'gcp-metadata',
  '@aws-sdk/credential-providers',
];

const ENTRIES = {
  gateway: 'services/gateway/src/main.ts',
  fetcher: 'services/fetcher/src/main.ts',
  catalog: 'services/catalog/src/main.ts',
  embedded: 'src/main.ts',
};

// The output directory is emptied first: refuse anything that is not a previous build.
const previous = await readFile(join(out, 'package.json'), 'utf8').then(
  (t) => JSON.parse(t).name,
  () => undefined,
);
const isEmptyOrAbsent = await readdir(out).then(
  (e) => e.length === 0,
  () => true,
);
if (root.startsWith(out) || (!isEmptyOrAbsent && previous !== 'vreg-dist')) {
  console.error(`build: ${out} is not empty and not a previous build output; refusing to replace it`);
  process.exit(1);
}
await rm(out, { recursive: true, force: true });
const result = await esbuild.build({
  absWorkingDir: root,
  entryPoints: ENTRIES,
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  chunkNames: 'chunks/[name]-[hash]',
  outExtension: { '.js': '.mjs' },
  external: [...NATIVE, ...OPTIONAL_ABSENT],
  // CommonJS dependencies call require() and read __dirname; give the ESM bundle both.
  banner: {
    js: [
      "import { createRequire as __vregCreateRequire } from 'node:module';",
      "import { fileURLToPath as __vregFileURLToPath } from 'node:url';",
      "import { dirname as __vregDirname } from 'node:path';",
      'const require = __vregCreateRequire(import.meta.url);',
      'const __filename = __vregFileURLToPath(import.meta.url);',
      'const __dirname = __vregDirname(__filename);',
    ].join('\n'),
  },
  sourcemap: 'linked',
  sourcesContent: false,
  legalComments: 'linked',
  minifySyntax: true,
  minifyWhitespace: true,
  keepNames: true,
  metafile: true,
  logLevel: 'warning',
});
// The entry and the health check are tiny plain-JS files: copied, not bundled.
for (const file of ['vreg.mjs', 'healthcheck.mjs']) await cp(join(root, 'deploy/docker', file), join(out, file));
await writeFile(join(out, 'package.json'), `${JSON.stringify({ name: 'vreg-dist', private: true, type: 'module' }, null, 2)}\n`);

// The runtime closure of each native module, resolved the way Node would.
const copied = new Set();
async function copyPackage(name, fromDir) {
  if (copied.has(name)) return;
  copied.add(name);
  const req = createRequire(join(fromDir, 'noop.js'));
  const pkgJson = req.resolve(`${name}/package.json`);
  const pkgDir = dirname(pkgJson);
  const pkg = JSON.parse(await readFile(pkgJson, 'utf8'));
  const dest = join(out, 'node_modules', name);
  await mkdir(dest, { recursive: true });
  await cp(pkgDir, dest, {
    recursive: true,
    // Sources, build intermediates and docs are not needed at run time: only the addon, compiled
    // here or the package's prebuilt one for this platform (Node-API, so any Node of the line loads it).
    filter: (src) => {
      const rel = src.slice(pkgDir.length).replaceAll('\\', '/');
      if (rel === '' || rel === '/package.json' || rel === '/LICENSE' || rel.startsWith('/lib')) return true;
      if (rel === '/build' || rel === '/build/Release' || rel === '/prebuilds') return true;
      if (/^\/build\/Release\/[^/]+\.node$/.test(rel) && !rel.includes('test_extension')) return true;
      if (rel === `/prebuilds/${process.platform}-${process.arch}.node`) return true;
      if (/^\/[^/]+\.(js|cjs|mjs|json)$/.test(rel)) return true;
      return false;
    },
  });
  for (const dep of Object.keys(pkg.dependencies ?? {})) {
    // Build-time only (C++ headers for node-gyp); nothing requires it at run time.
    if (dep === 'node-addon-api') continue;
    await copyPackage(dep, pkgDir);
  }
}
for (const name of NATIVE) await copyPackage(name, root);

// The web console: static files the catalog serves from console/ beside the entry.
const { build: viteBuild } = await import('vite');
await viteBuild({ root: join(root, 'packages/console'), logLevel: 'warn', build: { outDir: join(out, 'console'), emptyOutDir: true } });
await precompressAssets(join(out, 'console'));

const bytes = Object.entries(result.metafile.outputs)
  .filter(([file]) => file.endsWith('.mjs'))
  .reduce((sum, [, o]) => sum + o.bytes, 0);
console.log(
  `${out}: ${Object.keys(ENTRIES).join(', ')} (${(bytes / 1048576).toFixed(1)} MiB of JS); native: ${[...copied].join(', ')}; console/`,
);
