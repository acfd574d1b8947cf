import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { createLogger } from '@vreg/logging';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedVreg, startEmbedded } from '../src/embedded.ts';
import { loadEmbeddedConfig } from '../src/embedded-config.ts';
import { AdminClient } from './support/admin-client.ts';
import { adminContractBreach, adminRequest } from './support/admin-input-arbitraries.ts';
import { headers, method, OCI_ERROR_CODES, pullPath } from './support/bad-input-arbitraries.ts';
import { LOCAL_UPSTREAMS } from './support/embedded-under-test.ts';
import { runFuzz } from './support/fuzz-record.ts';
import { auditStore, type HostileRig, hostileBreach, hostileCase, socketRequest, startHostileRig } from './support/hostile-fuzz.ts';
import { AttackClasses, recordAttacks } from './support/security-record.ts';
import { testEnv } from './support/test-env.ts';

// Fuzz of a real vreg (embedded mode, its own data directory) over real
// HTTP: raw request lines and headers exactly as generated (no client
// normalizes `..` or encodings), seeded and bounded. Its record goes to
// .vreg-test/results/fuzz-pull-api-real-http.json (format in
// test/support/fuzz-record.ts: { suite, checked, cases, failures, seed, pass, ... }).
// Besides status and body shape it checks the file system: a sentinel
// directory next to the data directory is never read through the API and
// nothing appears outside the data directory.

const SECRET = `sentinel-${Date.now()}-do-not-serve`;

/** Sends one request exactly as given (Connection: close) and reads the whole answer. */
async function rawRequest(port: number, head: string): Promise<{ status: number; body: string }> {
  const socket = connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  const closed = new Promise<void>((resolve) => {
    socket.on('close', () => resolve());
    socket.on('error', () => resolve());
  });
  socket.write(Buffer.from(head, 'utf8'));
  await closed;
  const text = Buffer.concat(chunks).toString('latin1');
  const status = /^HTTP\/1\.1 (\d{3})/.exec(text)?.[1];
  return { status: status === undefined ? 0 : Number(status), body: text.slice(text.indexOf('\r\n\r\n') + 4) };
}

function requestHead(m: string, path: string, hdrs: Record<string, string | string[] | undefined>, body?: string): string {
  const lines = [`${m} ${path} HTTP/1.1`, 'Host: 127.0.0.1'];
  for (const [name, value] of Object.entries(hdrs)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${v}`);
  }
  if (body !== undefined) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return `${lines.join('\r\n')}\r\nConnection: close\r\n\r\n${body ?? ''}`;
}

/** Every file under `dir` with its size, relative paths. */
async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const full = join(entry.parentPath, entry.name);
    out.push(`${relative(dir, full)}${entry.isFile() ? `:${(await stat(full)).size}` : '/'}`);
  }
  return out.sort();
}

describe('pull and admin API fuzz over real HTTP (embedded vreg)', () => {
  const env = testEnv();
  let root: string;
  let dataDir: string;
  let sentinelDir: string;
  let vreg: EmbeddedVreg;
  let port: number;
  let sentinelBefore: string[];
  let rootBefore: string[];

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'vreg-fuzz-'));
    dataDir = join(root, 'data');
    sentinelDir = join(root, 'sentinel');
    await mkdir(join(sentinelDir, 'blobs', 'sha256', 'aa'), { recursive: true });
    await writeFile(join(sentinelDir, 'secret'), SECRET);
    await writeFile(join(sentinelDir, 'blobs', 'sha256', 'aa', 'a'.repeat(64)), SECRET);
    const config = loadEmbeddedConfig({
      VREG_LISTEN: '127.0.0.1:0',
      VREG_DATA_DIR: dataDir,
      // Spools live under the data directory too, so "nothing outside it" covers them.
      VREG_SPOOL_DIR: join(dataDir, 'spool'),
      VREG_LOG_LEVEL: process.env.VREG_TEST_LOG_LEVEL ?? 'silent',
      VREG_PULL_RATE_LIMIT: '0',
      // Wrong tokens are part of the fuzz: throttled after ten, the rest would all be 429s.
      VREG_ADMIN_AUTH_FAILURES_PER_ADDRESS: '100000',
      ...LOCAL_UPSTREAMS,
    });
    vreg = await startEmbedded(config, createLogger({ level: config.VREG_LOG_LEVEL, name: 'vreg-fuzz' }));
    port = Number(new URL(vreg.url).port);
    const admin = new AdminClient(vreg.url, vreg.adminToken);
    const { id } = await admin.createRegistry('fuzz', { visibility: 'public' });
    await admin.addUpstream(id, { name: 'a', url: env.upstreamA });
    sentinelBefore = await listTree(sentinelDir);
    rootBefore = (await readdir(root)).sort();
  });
  afterAll(async () => {
    await vreg?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('answers hostile pulls below 500 in OCI errors, serves nothing from outside the data dir and writes nothing outside it', async () => {
    const record = await runFuzz(
      'pull API (real HTTP)',
      'status in 200..499, OCI errors body for 4xx, no response carries a file from a sentinel directory next to the data dir, nothing created outside the data dir, the server answers afterwards',
      fc.asyncProperty(method, pullPath, headers, async (m, path, hdrs) => {
        const res = await rawRequest(port, requestHead(m, path, hdrs));
        const where = `${m} ${path.slice(0, 200)}`;
        if (res.status < 200 || res.status >= 500) throw new Error(`${where} answered ${res.status}: ${res.body.slice(0, 300)}`);
        if (res.body.includes(SECRET)) throw new Error(`${where} served the sentinel file`);
        if (res.status >= 400 && m !== 'HEAD') {
          const code = (JSON.parse(res.body) as { errors?: Array<{ code?: unknown }> }).errors?.[0]?.code;
          if (typeof code !== 'string' || !OCI_ERROR_CODES.has(code))
            throw new Error(`${where} answered ${res.status} with ${res.body.slice(0, 300)}`);
        }
      }),
      { seed: 90_003, numRuns: 600, attack: AttackClasses.pathTraversal },
    );
    expect(record).toMatchObject({ cases: 600, failures: 0 });

    expect(await listTree(sentinelDir)).toEqual(sentinelBefore);
    expect((await readdir(root)).sort()).toEqual(rootBefore);
    expect(await readFile(join(sentinelDir, 'secret'), 'utf8')).toBe(SECRET);
    const health = await fetch(`${vreg.url}/healthz`);
    expect(health.status).toBe(200);
  }, 120_000);

  it('never reaches the sentinel by the obvious traversals, raw or encoded', async () => {
    const tally = recordAttacks(
      AttackClasses.pathTraversal,
      'traversals raw and encoded to a file next to the data dir',
      'test/fuzz.int.test.ts',
    );
    const climbs = [
      '../sentinel/secret',
      '..%2fsentinel%2fsecret',
      '%2e%2e/sentinel/secret',
      '%2e%2e%2fsentinel%2fsecret',
      '..%5csentinel%5csecret',
      '....//sentinel/secret',
    ];
    for (const climb of climbs) {
      for (const path of [
        `/v2/virtual_registries/containers/1/${climb}/manifests/latest`,
        `/v2/virtual_registries/containers/1/library/x/blobs/sha256:${'a'.repeat(64)}/../../../../sentinel/secret`,
        `/v2/virtual_registries/containers/1/library/x/blobs/${climb}`,
        `/v2/../../${climb}`,
        `/api/v1/../../${climb}`,
      ]) {
        const res = await rawRequest(port, requestHead('GET', path, {}));
        tally.tried();
        expect(res.status, path).toBeGreaterThanOrEqual(400);
        expect(res.status, path).toBeLessThan(500);
        expect(res.body, path).not.toContain(SECRET);
      }
    }
    // The blob the sentinel holds under the same layout as the store is unknown to vreg, not served from there.
    const blob = await rawRequest(
      port,
      requestHead('GET', `/v2/virtual_registries/containers/1/library/alpine/blobs/sha256:${'a'.repeat(64)}`, {}),
    );
    expect(blob.status).toBe(404);
    expect(JSON.parse(blob.body).errors[0].code).toBe('BLOB_UNKNOWN');
  });

  it('answers overlong header blocks with 431 and overlong URLs with 414 over real sockets', async () => {
    const big = await rawRequest(port, requestHead('GET', '/v2/', { 'x-pad': 'a'.repeat(20_000) }));
    expect(big.status).toBe(431);
    expect(JSON.parse(big.body).errors[0].code).toBe('SIZE_INVALID');
    const long = await rawRequest(
      port,
      requestHead('GET', `/v2/virtual_registries/containers/1/library/alpine/manifests/latest?x=${'a'.repeat(5000)}`, {}),
    );
    expect(long.status).toBe(414);
    expect(JSON.parse(long.body).errors[0].code).toBe('NAME_INVALID');
    expect((await fetch(`${vreg.url}/healthz`)).status).toBe(200);
  });

  // Last: it may delete the registries the tests above pull through.
  it('answers hostile admin requests below 500 in the admin errors shape, and stays up', async () => {
    const record = await runFuzz(
      'admin API (real HTTP)',
      "status in 200..499, admin { errors: [...] } body with a documented code for 4xx (the HTTP parser's own 400/431 before any URL is known: UNSUPPORTED/SIZE_INVALID), nothing created outside the data dir, the API answers afterwards",
      fc.asyncProperty(adminRequest(vreg.adminToken), async (req) => {
        const res = await rawRequest(port, requestHead(req.method, `/api/v1${req.path}`, req.headers, req.payload));
        if (res.status === 0) throw new Error(`${req.method} ${req.path.slice(0, 200)}: no HTTP answer`);
        const parserRefusal = (res.status === 400 || res.status === 431) && /"code":"(UNSUPPORTED|SIZE_INVALID)"/.test(res.body);
        const breach = parserRefusal ? undefined : adminContractBreach(req, res.status, res.body);
        if (breach !== undefined) throw new Error(breach);
      }),
      { seed: 90_004, numRuns: 400 },
    );
    expect(record).toMatchObject({ cases: 400, failures: 0 });
    expect((await readdir(root)).sort()).toEqual(rootBefore);
    expect(await listTree(sentinelDir)).toEqual(sentinelBefore);
    expect((await new AdminClient(vreg.url, vreg.adminToken).call('GET', '/registries')).status).toBe(200);
  }, 120_000);
});

describe('pull API fuzz against a hostile upstream over real sockets (embedded vreg)', () => {
  let rig: HostileRig;
  let n = 0;
  beforeAll(async () => {
    rig = await startHostileRig();
  });
  afterAll(async () => rig?.stop());

  it('never answers 500, hangs or delivers wrong whole answers, and stores nothing wrong, with real clients and connections', async () => {
    const port = Number(new URL(rig.vreg.url).port);
    const record = await runFuzz(
      'pull API, hostile upstream (real HTTP)',
      'as the inject suite (a hostile upstream: wrong types, huge headers, endless, cut, stalled and wrong bodies, lying lengths and digests, redirects, hostile token challenges, malformed manifests), over real client sockets: a status line always (never a connection dropped before it), no 500, an answer within 20 s, OCI errors body on errors, a whole answer always hashes to what was asked (Content-Length or the last chunk tells whole from cut); afterwards every stored object hashes to its name and every cache entry names a stored object of its size',
      fc.asyncProperty(hostileCase, async (c) => {
        const path = rig.pathOf(++n, c);
        const breach = hostileBreach(c, await socketRequest(port, c.method, path));
        if (breach !== undefined) throw new Error(`${path}: ${breach}`);
      }),
      { seed: 90_006, numRuns: 300, attack: AttackClasses.hostileUpstream },
    );
    expect(record).toMatchObject({ cases: 300, failures: 0 });
    const audit = await auditStore(rig);
    expect(audit.objects).toBeGreaterThan(10);
  }, 300_000);
});
