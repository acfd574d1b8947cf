import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@vreg/logging';
import fc from 'fast-check';
import { type EmbeddedVreg, startEmbedded } from '../../src/embedded.ts';
import { loadEmbeddedConfig } from '../../src/embedded-config.ts';
import { OCI_ERROR_CODES } from './bad-input-arbitraries.ts';
import { type HostileObject, type HostilePlan, HostileUpstream, hostileObject, hostilePlan, isGoodPlan } from './hostile-upstream.ts';

/** One fuzz case: what the upstream holds and how it answers, and what the client asks vreg for. */
export interface HostileCase {
  object: HostileObject;
  plan: HostilePlan;
  /** For manifests: by tag or by digest; blobs always by digest. */
  byTag: boolean;
  method: 'GET' | 'HEAD';
}

export const hostileCase: fc.Arbitrary<HostileCase> = fc.record({
  object: hostileObject,
  plan: hostilePlan,
  byTag: fc.boolean(),
  method: fc.constantFrom('GET', 'GET', 'GET', 'HEAD'),
});

/** What a client saw: status, headers, body, and whether the body arrived whole. */
export interface ClientAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** False when the transfer ended early (fewer bytes than Content-Length, no last chunk, or a reset). */
  complete: boolean;
}

/** Longest a case may take before it counts as a hang: far above the rig's upstream timeouts (2 s headers, 150 ms idle). */
export const CASE_DEADLINE_MS = 20_000;

const sha256 = (b: Uint8Array): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** The embedded vreg under a hostile upstream, with small limits so hostile bodies end quickly. */
export interface HostileRig {
  vreg: EmbeddedVreg;
  upstream: HostileUpstream;
  dataDir: string;
  registryId: string;
  upstreamId: string;
  /** The path a client pulls a case at, under /v2. */
  pathOf(n: number, c: HostileCase): string;
  stop(): Promise<void>;
}

/** Blob limit of the rig: endless bodies end here. */
export const RIG_MAX_BLOB_BYTES = 1 << 20;

export async function startHostileRig(extraEnv: Record<string, string> = {}): Promise<HostileRig> {
  const upstream = new HostileUpstream();
  await upstream.start();
  const dataDir = await mkdtemp(join(tmpdir(), 'vreg-hostile-'));
  const config = loadEmbeddedConfig({
    VREG_LISTEN: '127.0.0.1:0',
    VREG_DATA_DIR: dataDir,
    VREG_SPOOL_DIR: join(dataDir, 'spool'),
    VREG_LOG_LEVEL: process.env.VREG_TEST_LOG_LEVEL ?? 'silent',
    VREG_UPSTREAM_ALLOWED_NETWORKS: '127.0.0.1',
    VREG_PULL_RATE_LIMIT: '0',
    VREG_UPSTREAM_MAX_BLOB_BYTES: String(RIG_MAX_BLOB_BYTES),
    VREG_MANIFEST_MAX_BYTES: String(256 << 10),
    VREG_UPSTREAM_HEADERS_TIMEOUT_MS: '2000',
    VREG_UPSTREAM_BODY_IDLE_TIMEOUT_MS: '150',
    VREG_FETCHER_MAX_DELIVER: '1',
    VREG_GC_INTERVAL_MS: '0',
    ...extraEnv,
  });
  const vreg = await startEmbedded(config, createLogger({ level: config.VREG_LOG_LEVEL, name: 'vreg-hostile-fuzz' }));
  const admin = async (method: 'POST' | 'GET', url: string, payload?: object) => {
    const res = await vreg.server.inject({
      method,
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${vreg.adminToken}` },
      ...(payload === undefined ? {} : { payload }),
    });
    if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
    return res.json() as { id: string };
  };
  const registryId = (await admin('POST', '/registries', { name: 'hostile', visibility: 'public' })).id;
  const upstreamId = (await admin('POST', `/registries/${registryId}/upstreams`, { name: 'hostile', url: upstream.url })).id;
  return {
    vreg,
    upstream,
    dataDir,
    registryId,
    upstreamId,
    pathOf(n, c) {
      const repo = upstream.addCase(n, c.plan, c.object);
      const reference = c.object.kind === 'manifest' && c.byTag ? 'v1' : c.object.digest;
      return `/v2/virtual_registries/containers/${registryId}/${repo}/${c.object.kind === 'manifest' ? 'manifests' : 'blobs'}/${reference}`;
    },
    async stop() {
      await vreg.stop();
      await upstream.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Why vreg's answer to a case breaks the contract, or undefined: never a
 * 500 (an upstream's failure is a 502/503/504 in OCI format), an OCI errors
 * body on every error, and never bytes that do not hash to what was asked
 * delivered as a whole answer; a wholly good upstream is served its object.
 */
export function hostileBreach(c: HostileCase, res: ClientAnswer): string | undefined {
  const asked = `${c.method} ${c.object.kind} ${c.byTag && c.object.kind === 'manifest' ? 'by tag' : 'by digest'}`;
  if (res.status === 500 || res.status < 200 || res.status > 504)
    return `${asked} answered ${res.status}: ${res.body.toString('latin1').slice(0, 300)}`;
  if (res.status >= 400 && c.method === 'GET') {
    let code: unknown;
    try {
      code = (JSON.parse(res.body.toString('utf8')) as { errors?: Array<{ code?: unknown }> }).errors?.[0]?.code;
    } catch {
      return `${asked} answered ${res.status} with a body that is not JSON: ${res.body.toString('latin1').slice(0, 200)}`;
    }
    if (typeof code !== 'string' || !OCI_ERROR_CODES.has(code)) return `${asked} answered ${res.status} with code ${String(code)}`;
  }
  const byTag = c.byTag && c.object.kind === 'manifest';
  const header = res.headers['docker-content-digest'];
  if (res.status === 200 && c.method === 'GET' && res.complete) {
    // By digest the bytes must be the ones asked for; by tag (an upstream names what it likes) the digest vreg states.
    const got = sha256(res.body);
    const expected = byTag ? header : c.object.digest;
    if (got !== expected) return `${asked} delivered ${res.body.length} whole bytes hashing to ${got}, not ${String(expected)}`;
  }
  if (res.status === 200 && !byTag && header !== undefined && header !== c.object.digest)
    return `${asked} answered with Docker-Content-Digest ${String(header)}`;
  if (isGoodPlan(c.plan) && !(res.status === 200 && (c.method === 'HEAD' || res.complete)))
    return `${asked} from a well-behaved upstream answered ${res.status} (${res.complete ? 'complete' : 'incomplete'}): ${res.body.toString('latin1').slice(0, 200)}`;
  return undefined;
}

/** Runs `work` or fails as a hang after CASE_DEADLINE_MS. */
export async function bounded<T>(what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${CASE_DEADLINE_MS} ms (a hang)`)), CASE_DEADLINE_MS);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Nothing wrong stored: every object in the data dir hashes to its name,
 * and every cache entry of the hostile upstream names an object that is
 * there, of its size, under the digest its path asked for.
 */
export async function auditStore(rig: HostileRig): Promise<{ objects: number; entries: number }> {
  const root = join(rig.dataDir, 'blobs');
  let objects = 0;
  for (const alg of await readdir(root).catch(() => [] as string[])) {
    for (const prefix of await readdir(join(root, alg))) {
      for (const hex of await readdir(join(root, alg, prefix))) {
        const bytes = await readFile(join(root, alg, prefix, hex));
        const name = `${alg}:${hex}`;
        if (sha256(bytes) !== name) throw new Error(`stored object ${name} hashes to ${sha256(bytes)}`);
        objects += 1;
      }
    }
  }
  let entries = 0;
  for (let page = 1; ; page += 1) {
    const res = await rig.vreg.server.inject({
      method: 'GET',
      url: `/api/v1/upstreams/${rig.upstreamId}/cache_entries?page=${page}&per_page=100`,
      headers: { authorization: `Bearer ${rig.vreg.adminToken}` },
    });
    const items = res.json() as Array<{ relative_path: string; digest: string; size: number }>;
    for (const e of items) {
      entries += 1;
      const [alg, hex] = e.digest.split(':') as [string, string];
      const bytes = await readFile(join(root, alg, hex.slice(0, 2), hex)).catch(() => undefined);
      if (bytes === undefined) throw new Error(`cache entry ${e.relative_path} names ${e.digest}, which is not stored`);
      if (bytes.length !== e.size) throw new Error(`cache entry ${e.relative_path} says ${e.size} bytes, ${bytes.length} stored`);
      const byDigest = /\/(?:blobs|manifests)\/(sha256:[a-f0-9]{64})$/.exec(e.relative_path);
      if (byDigest && byDigest[1] !== e.digest) throw new Error(`cache entry ${e.relative_path} holds ${e.digest}`);
    }
    if (items.length < 100) break;
  }
  return { objects, entries };
}

/**
 * One request over a real socket (Connection: close), read to its end or
 * until the server cuts it: status, headers, the de-chunked body, and
 * whether the body arrived whole (Content-Length met, or the last chunk seen).
 */
export function socketRequest(port: number, method: string, path: string): Promise<ClientAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      const raw = Buffer.concat(chunks);
      const end = raw.indexOf('\r\n\r\n');
      if (end < 0) {
        // Cut before the headers were complete: a client sees a failed request, not bytes.
        resolve({ status: 0, headers: {}, body: Buffer.alloc(0), complete: false });
        return;
      }
      const [statusLine, ...lines] = raw.subarray(0, end).toString('latin1').split('\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine ?? '')?.[1] ?? 0);
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      const rest = raw.subarray(end + 4);
      if (method === 'HEAD' || status === 204 || status === 304) {
        resolve({ status, headers, body: Buffer.alloc(0), complete: true });
        return;
      }
      if (headers['transfer-encoding']?.toLowerCase() === 'chunked') {
        const parts: Buffer[] = [];
        let at = 0;
        let complete = false;
        while (at < rest.length) {
          const lineEnd = rest.indexOf('\r\n', at);
          if (lineEnd < 0) break;
          const size = Number.parseInt(rest.subarray(at, lineEnd).toString('latin1'), 16);
          if (Number.isNaN(size)) break;
          if (size === 0) {
            complete = true;
            break;
          }
          if (lineEnd + 2 + size > rest.length) {
            parts.push(rest.subarray(lineEnd + 2));
            break;
          }
          parts.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
          at = lineEnd + 2 + size + 2;
        }
        resolve({ status, headers, body: Buffer.concat(parts), complete });
        return;
      }
      const length = headers['content-length'];
      resolve({ status, headers, body: rest, complete: length === undefined || Number(length) === rest.length });
    });
    socket.setTimeout(CASE_DEADLINE_MS, () => {
      socket.destroy();
      reject(new Error(`${method} ${path}: no answer within ${CASE_DEADLINE_MS} ms over the socket (a hang)`));
    });
    socket.write(`${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
  });
}
