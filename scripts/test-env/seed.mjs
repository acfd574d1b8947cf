#!/usr/bin/env node
// Seeds the test upstream registries with deterministic images, built here
// (no docker) as OCI image layouts and pushed with skopeo:
//
//   upstream A: library/busybox:latest     runnable, static busybox, OCI
//               library/bigimage:v1        3 layers (32 MiB, 8 MiB, small), Docker schema2
//               library/multiarch:latest   OCI index, linux/amd64 + linux/arm64
//               team/app/api:1.0           nested name, small OCI image
//   upstream B: library/busybox:latest     (same digest as on A)
//               library/only-in-b:latest   small OCI image
//
// Re-running is cheap: an image whose manifest and blobs are already in a
// registry is not pushed again (VREG_TEST_SEED_FORCE=1 pushes anyway). Writes $VREG_TEST_ENV_DIR/seeded.json.
// Upstream URLs come from VREG_TEST_UPSTREAM_URL / VREG_TEST_UPSTREAM_B_URL,
// else from $VREG_TEST_ENV_DIR/env.json (written by start.sh).
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allBlobs, buildImage, buildIndex, describe, MediaType, pseudoRandomBytes, writeDirLayout, writeLayout } from './lib/image.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const envDir = process.env.VREG_TEST_ENV_DIR ?? resolve(here, '../../.vreg-test/env');
const started = performance.now();

function loadEnv() {
  const file = join(envDir, 'env.json');
  const fromFile = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  const get = (k) => process.env[k] ?? fromFile[k];
  const A = get('VREG_TEST_UPSTREAM_URL');
  const B = get('VREG_TEST_UPSTREAM_B_URL');
  if (!A || !B) {
    throw new Error(`no upstream URLs: set VREG_TEST_UPSTREAM_URL/_B_URL or run scripts/test-env/start.sh (${file})`);
  }
  return { upstreams: { A, B }, skopeo: get('VREG_TEST_SKOPEO') || 'skopeo' };
}

// ---- the images -----------------------------------------------------------

const hostArch = { x64: 'amd64', arm64: 'arm64' }[process.arch] ?? process.arch;

function busybox() {
  const path = process.env.VREG_TEST_BUSYBOX ?? '/bin/busybox';
  if (!existsSync(path)) throw new Error(`${path} missing: install busybox-static (scripts/test-env/install.sh)`);
  const applets = ['sh', 'ls', 'echo', 'cat'];
  return buildImage({
    platform: { os: 'linux', architecture: hostArch },
    config: { Entrypoint: ['/bin/sh'] },
    layers: [
      {
        comment: 'busybox-static with sh, ls, echo, cat',
        entries: [
          { type: 'dir', path: 'bin' },
          { type: 'file', path: 'bin/busybox', mode: 0o755, data: readFileSync(path) },
          ...applets.map((a) => ({ type: 'symlink', path: `bin/${a}`, target: 'busybox' })),
          { type: 'dir', path: 'etc' },
          { type: 'file', path: 'etc/vreg-seed', data: 'library/busybox\n' },
          { type: 'dir', path: 'tmp', mode: 0o1777 },
        ],
      },
    ],
  });
}

function bigimage() {
  const MiB = 1024 * 1024;
  return buildImage({
    format: 'docker',
    platform: { os: 'linux', architecture: 'amd64' },
    config: { Cmd: ['/bin/sh'] },
    layers: [
      {
        comment: '32 MiB of pseudo-random bytes',
        // Incompressible: deflate's stored blocks are as small as level 1's and
        // 14x faster. Still a valid gzip layer.
        level: 0,
        entries: [
          { type: 'dir', path: 'data' },
          { type: 'file', path: 'data/random-32m.bin', data: pseudoRandomBytes('bigimage/layer-1', 32 * MiB) },
        ],
      },
      {
        comment: '8 MiB of pseudo-random bytes',
        level: 0,
        entries: [
          { type: 'dir', path: 'data' },
          { type: 'file', path: 'data/random-8m.bin', data: pseudoRandomBytes('bigimage/layer-2', 8 * MiB) },
        ],
      },
      {
        comment: 'a small text file',
        entries: [
          { type: 'dir', path: 'etc' },
          { type: 'file', path: 'etc/vreg-seed', data: 'library/bigimage:v1\n' },
        ],
      },
    ],
  });
}

/** A one-layer image whose only content names it, so each digest differs. */
function small(label, platform = { os: 'linux', architecture: 'amd64' }) {
  return buildImage({
    platform,
    config: { Cmd: ['/bin/sh'] },
    layers: [
      {
        comment: `marker for ${label}`,
        entries: [
          { type: 'dir', path: 'etc' },
          { type: 'file', path: 'etc/vreg-seed', data: `${label}\n` },
          { type: 'file', path: 'etc/vreg-seed.bin', data: pseudoRandomBytes(label, 4096) },
        ],
      },
    ],
  });
}

function multiarch() {
  return buildIndex([
    small('library/multiarch linux/amd64', { os: 'linux', architecture: 'amd64' }),
    small('library/multiarch linux/arm64', { os: 'linux', architecture: 'arm64', variant: 'v8' }),
  ]);
}

// ---- registry checks and pushes -------------------------------------------

const ACCEPT = [MediaType.ociManifest, MediaType.ociIndex, MediaType.dockerManifest, MediaType.dockerManifestList].join(', ');

async function head(url) {
  const res = await fetch(url, { method: 'HEAD', headers: { Accept: ACCEPT } });
  return res;
}

/** Is `artifact` at name:tag with every manifest and blob it references? */
async function isPresent(base, name, tag, artifact) {
  const res = await head(`${base}/v2/${name}/manifests/${tag}`);
  if (res.status !== 200 || res.headers.get('docker-content-digest') !== artifact.manifest.digest) return false;
  for (const b of allBlobs(artifact)) {
    const kind = b.mediaType === artifact.manifest.mediaType || b.mediaType.includes('manifest') ? 'manifests' : 'blobs';
    if ((await head(`${base}/v2/${name}/${kind}/${b.digest}`)).status !== 200) return false;
  }
  return true;
}

function skopeoCopy(skopeo, args) {
  return new Promise((resolvePromise, reject) => {
    execFile(skopeo, args, { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`skopeo ${args.join(' ')} failed:\n${stderr || stdout || err.message}`));
      else resolvePromise();
    });
  });
}

async function push(env, item, upstream) {
  const base = env.upstreams[upstream];
  const { name, tag, artifact } = item;
  const t0 = performance.now();
  const force = process.env.VREG_TEST_SEED_FORCE === '1';
  if (!force && (await isPresent(base, name, tag, artifact))) return `${upstream} ${name}:${tag} present`;

  // Docker schema2 goes through skopeo's dir: transport, see writeDirLayout.
  const dockerFormat = artifact.manifest.mediaType === MediaType.dockerManifest;
  const layout = join(envDir, 'seed-layouts', `${name.replaceAll('/', '_')}_${tag}`);
  if (!item.layoutWritten) {
    if (dockerFormat) writeDirLayout(layout, artifact);
    else writeLayout(layout, artifact, tag);
    item.layoutWritten = true;
  }
  const host = new URL(base).host;
  await skopeoCopy(env.skopeo, [
    '--insecure-policy', // test env: no /etc/containers/policy.json needed
    'copy',
    '--quiet',
    '--preserve-digests', // fail rather than let skopeo re-encode anything
    ...(artifact.kind === 'index' ? ['--all'] : []),
    '--dest-tls-verify=false',
    dockerFormat ? `dir:${layout}` : `oci:${layout}:${tag}`,
    `docker://${host}/${name}:${tag}`,
  ]);

  // The registry must now serve exactly what we built, with its media type.
  const res = await head(`${base}/v2/${name}/manifests/${tag}`);
  const digest = res.headers.get('docker-content-digest');
  const type = res.headers.get('content-type');
  if (res.status !== 200 || digest !== artifact.manifest.digest || type !== artifact.manifest.mediaType) {
    throw new Error(
      `${upstream} ${name}:${tag}: after push got ${res.status} ${digest} ${type}, ` +
        `want ${artifact.manifest.digest} ${artifact.manifest.mediaType}`,
    );
  }
  return `${upstream} ${name}:${tag} pushed in ${((performance.now() - t0) / 1000).toFixed(1)}s`;
}

// ---- main -----------------------------------------------------------------

const env = loadEnv();
const bb = busybox();
const items = [
  { name: 'library/busybox', tag: 'latest', artifact: bb, upstreams: ['A', 'B'] },
  { name: 'library/bigimage', tag: 'v1', artifact: bigimage(), upstreams: ['A'] },
  { name: 'library/multiarch', tag: 'latest', artifact: multiarch(), upstreams: ['A'] },
  { name: 'team/app/api', tag: '1.0', artifact: small('team/app/api:1.0'), upstreams: ['A'] },
  { name: 'library/only-in-b', tag: 'latest', artifact: small('library/only-in-b:latest'), upstreams: ['B'] },
];
const built = performance.now();

// Different registries or names: independent, so push them all at once.
const results = await Promise.allSettled(items.flatMap((item) => item.upstreams.map((u) => push(env, item, u))));
let failed = false;
for (const r of results) {
  if (r.status === 'fulfilled') console.log(`  ${r.value}`);
  else {
    failed = true;
    console.error(`seed: ${r.reason.message}`);
  }
}
if (failed) process.exit(1); // layouts stay in seed-layouts/ for a look
// Regenerated on demand; no need to keep 40 MiB around.
rmSync(join(envDir, 'seed-layouts'), { recursive: true, force: true });

const seeded = {
  upstreams: env.upstreams,
  images: items.map(({ name, tag, upstreams, artifact }) => ({ name, tag, upstreams, ...describe(artifact) })),
};
mkdirSync(envDir, { recursive: true });
writeFileSync(join(envDir, 'seeded.json.tmp'), JSON.stringify(seeded, null, 2) + '\n');
renameSync(join(envDir, 'seeded.json.tmp'), join(envDir, 'seeded.json'));
const secs = (ms) => (ms / 1000).toFixed(1);
console.log(
  `seeded ${items.length} images (built in ${secs(built - started)}s, total ${secs(performance.now() - started)}s): ` +
    join(envDir, 'seeded.json'),
);
