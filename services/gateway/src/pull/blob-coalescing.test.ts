import { createHash, randomBytes } from 'node:crypto';
import { type IncomingMessage, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RegistryView } from '@vreg/contracts';
import { type FillLease, MemoryFillLease } from '@vreg/fill-lease';
import { afterEach, describe, expect, it } from 'vitest';
import { gatewayHarness } from '../testing/gateway-harness.ts';

const UP = 'http://upstream.test';
const registries: RegistryView[] = [
  { id: '1', name: 'one', upstreams: [{ id: '10', name: 'a', url: UP, position: 0, cacheValidityHours: 24 }] },
];
const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

interface Client {
  done: Promise<{ body: Buffer; status: number; cache: string | undefined }>;
  received: () => number;
  pause: () => void;
  resume: () => void;
}

function get(base: string, path: string): Client {
  const chunks: Buffer[] = [];
  let res: IncomingMessage | undefined;
  let received = 0;
  const done = new Promise<{ body: Buffer; status: number; cache: string | undefined }>((resolve, reject) => {
    request(`${base}${path}`, (r) => {
      res = r;
      r.on('data', (c: Buffer) => {
        received += c.length;
        chunks.push(c);
      });
      r.on('end', () =>
        resolve({ body: Buffer.concat(chunks), status: r.statusCode ?? 0, cache: r.headers['x-vreg-cache'] as string | undefined }),
      );
      r.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
  return { done, received: () => received, pause: () => res?.pause(), resume: () => res?.resume() };
}

const until = async (check: () => boolean, ms = 5000): Promise<void> => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('concurrent misses of one blob in one gateway', () => {
  let h: Awaited<ReturnType<typeof gatewayHarness>>;
  afterEach(async () => h?.close());

  async function serve(blob: Buffer, chunkDelayMs: number): Promise<{ base: string; path: string; digest: string }> {
    h = await gatewayHarness(registries);
    h.upstream.chunkDelayMs = chunkDelayMs;
    const digest = h.upstream.addBlob(UP, 'library/x', blob);
    await h.server.listen({ port: 0, host: '127.0.0.1' });
    return {
      base: `http://127.0.0.1:${(h.server.server.address() as AddressInfo).port}`,
      path: `/v2/virtual_registries/containers/1/library/x/blobs/${digest}`,
      digest,
    };
  }

  it('share one upstream download, every client getting the whole blob', async () => {
    const blob = randomBytes(2 << 20);
    const { base, path, digest } = await serve(blob, 2);
    const clients = Array.from({ length: 20 }, () => get(base, path));
    const results = await Promise.all(clients.map((c) => c.done));
    for (const r of results) expect(sha(r.body)).toBe(digest);
    expect(h.upstream.count('GET blob')).toBe(1);
    expect(results.filter((r) => r.cache === 'miss')).toHaveLength(1);
    expect(results.filter((r) => r.cache === 'coalesced')).toHaveLength(19);
  });

  it('give a client that joins late the complete blob from byte 0', async () => {
    const blob = randomBytes(2 << 20);
    const { base, path, digest } = await serve(blob, 5);
    const first = get(base, path);
    await until(() => first.received() > 512 * 1024);
    const late = get(base, path);
    const [a, b] = await Promise.all([first.done, late.done]);
    expect(sha(a.body)).toBe(digest);
    expect(sha(b.body)).toBe(digest);
    expect(b.cache).toBe('coalesced');
    expect(h.upstream.count('GET blob')).toBe(1);
  });

  it('let a fast client finish while a slow one is paused, and the slow one finish later', async () => {
    const blob = randomBytes(4 << 20);
    const { base, path, digest } = await serve(blob, 1);
    const slow = get(base, path);
    await until(() => slow.received() > 0);
    slow.pause();
    const fast = get(base, path);
    const fastResult = await fast.done;
    expect(sha(fastResult.body)).toBe(digest);
    expect(slow.received()).toBeLessThan(blob.length);
    slow.resume();
    expect(sha((await slow.done).body)).toBe(digest);
    expect(h.upstream.count('GET blob')).toBe(1);
  });
});

describe('a miss racing another process that just stored the blob', () => {
  let h: Awaited<ReturnType<typeof gatewayHarness>> | undefined;
  afterEach(async () => h?.close());

  it('serves what the last lease holder committed instead of downloading it again', async () => {
    const blob = randomBytes(100_000);
    const digest = sha(blob);
    const inner = new MemoryFillLease();
    // Another gateway commits the blob and lets its lease go just before this one acquires the
    // lease: after this gateway's catalog look-up missed, before it holds the lease.
    const leases: FillLease = {
      acquire: async (key, ttlMs, holder) => {
        const writer = await h!.store.beginWrite(digest);
        writer.stream.end(blob);
        await writer.commit();
        return inner.acquire(key, ttlMs, holder);
      },
      holderOf: (key) => inner.holderOf(key),
    };
    h = await gatewayHarness(registries, {}, { leases });
    h.upstream.addBlob(UP, 'library/x', blob);
    const res = await h.server.inject({ method: 'GET', url: `/v2/virtual_registries/containers/1/library/x/blobs/${digest}` });
    expect(res.statusCode).toBe(200);
    expect(sha(res.rawPayload)).toBe(digest);
    expect(h.upstream.count('GET blob')).toBe(0);
    expect(await inner.holderOf(`blob/${digest}`)).toBeUndefined();
  });
});

describe('a miss while another process holds the fill lease', () => {
  let h: Awaited<ReturnType<typeof gatewayHarness>> | undefined;
  afterEach(async () => h?.close());

  async function setUp(leases: FillLease): Promise<{ blob: Buffer; digest: string; url: string }> {
    h = await gatewayHarness(registries, { VREG_FILL_LEASE_TTL_MS: '1000', VREG_FILL_WAIT_POLL_MS: '20' }, { leases });
    const blob = randomBytes(50_000);
    const digest = h.upstream.addBlob(UP, 'library/x', blob);
    return { blob, digest, url: `/v2/virtual_registries/containers/1/library/x/blobs/${digest}` };
  }

  it('keeps waiting on a holder the lease store still names, however long past the TTL, then serves what it stored', async () => {
    // A slow but live holder: the lease store keeps naming it, whatever this gateway's clock says.
    const held: FillLease = { acquire: async () => undefined, holderOf: async () => 'slow-gateway' };
    const { blob, digest, url } = await setUp(held);
    const pending = h!.server.inject({ method: 'GET', url });
    await new Promise((r) => setTimeout(r, 3000));
    expect(h!.upstream.count('GET blob')).toBe(0);
    const writer = await h!.store.beginWrite(digest);
    writer.stream.end(blob);
    await writer.commit();
    const res = await pending;
    expect(res.statusCode).toBe(200);
    expect(sha(res.rawPayload)).toBe(digest);
    expect(h!.upstream.count('GET blob')).toBe(0);
  });

  it('takes the fill over once the holder is gone (it stopped renewing and its lease expired)', async () => {
    const leases = new MemoryFillLease();
    const { digest, url } = await setUp(leases);
    await leases.acquire(`blob/${digest}`, 1000, 'dead-gateway');
    const res = await h!.server.inject({ method: 'GET', url });
    expect(res.statusCode).toBe(200);
    expect(sha(res.rawPayload)).toBe(digest);
    expect(h!.upstream.count('GET blob')).toBe(1);
  });
});
