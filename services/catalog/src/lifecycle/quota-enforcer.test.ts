import { createLogger } from '@vreg/logging';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryCatalogStore } from '../adapters/memory/memory-catalog-store.ts';
import { withEntryHooks } from './entry-hooked-store.ts';
import { QuotaEnforcer } from './quota-enforcer.ts';

const logger = createLogger({ level: 'silent', name: 'quota-test' });
const DAY = 86_400_000;
const digest = (c: string): string => `sha256:${c.repeat(64)}`;

let enforcer: QuotaEnforcer | undefined;
afterEach(async () => {
  await enforcer?.stop();
  enforcer = undefined;
});

async function storeWith(quota: number | undefined): Promise<MemoryCatalogStore> {
  const store = new MemoryCatalogStore();
  await store.registries.create({ name: 'r', ...(quota === undefined ? {} : { maxStoredBytes: quota }) });
  await store.upstreams.create({ registryId: '1', name: 'u', url: 'https://u.example', cacheValidityHours: 24 });
  return store;
}

async function put(store: MemoryCatalogStore, path: string, size: number, d: string, downloadedDaysAgo?: number): Promise<void> {
  await store.cacheEntries.upsert({
    upstreamId: '1',
    registryId: '1',
    relativePath: path,
    digest: d,
    contentType: 'application/octet-stream',
    size,
    upstreamCheckedAt: new Date(),
  });
  if (downloadedDaysAgo !== undefined)
    await store.cacheEntries.recordDownloads('1', path, 1, new Date(Date.now() - downloadedDaysAgo * DAY));
}

async function pendingPaths(store: MemoryCatalogStore): Promise<string[]> {
  return (await store.cacheEntries.findAll({ status: 'pending_destruction' })).map((e) => e.relativePath).sort();
}

describe('QuotaEnforcer', () => {
  it('marks least recently downloaded entries first until usage is at or under the quota', async () => {
    const store = await storeWith(1000);
    await put(store, 'a/blobs/1', 400, digest('1'), 10); // oldest download
    await put(store, 'a/blobs/2', 400, digest('2'), 5);
    await put(store, 'a/blobs/3', 400, digest('3'), 1); // newest
    enforcer = new QuotaEnforcer({ store, logger, sweepIntervalMs: 0 });
    expect(await enforcer.enforce('1')).toEqual({ entries: 1, bytes: 400 });
    expect(await pendingPaths(store)).toEqual(['a/blobs/1']);
    // Under quota now: nothing more.
    expect(await enforcer.enforce('1')).toEqual({ entries: 0, bytes: 0 });
  });

  it('ranks a never-downloaded entry by when it was cached, and frees a shared digest only with its last entry', async () => {
    const store = await storeWith(500);
    // Cached now, never downloaded: newer than anything downloaded days ago.
    await put(store, 'fresh/blobs/x', 300, digest('9'));
    // One digest under two paths of the upstream: counts once (200).
    await put(store, 'a/blobs/s', 200, digest('5'), 30);
    await put(store, 'b/blobs/s', 200, digest('5'), 20);
    await put(store, 'c/blobs/t', 100, digest('6'), 10);
    // Usage 300 + 200 + 100 = 600 > 500: a/blobs/s goes first but frees nothing (b still holds the digest), then b/blobs/s frees 200.
    enforcer = new QuotaEnforcer({ store, logger, sweepIntervalMs: 0 });
    expect(await enforcer.enforce('1')).toEqual({ entries: 2, bytes: 400 });
    expect(await pendingPaths(store)).toEqual(['a/blobs/s', 'b/blobs/s']);
  });

  it('does nothing without a quota, and sweeps every registry that has one', async () => {
    const store = await storeWith(undefined);
    await put(store, 'a/blobs/1', 400, digest('1'), 3);
    enforcer = new QuotaEnforcer({ store, logger, sweepIntervalMs: 0 });
    expect(await enforcer.enforce('1')).toEqual({ entries: 0, bytes: 0 });
    expect(await enforcer.sweep()).toEqual({ entries: 0, bytes: 0 });
    await store.registries.update('1', { maxStoredBytes: 100 });
    expect(await enforcer.sweep()).toEqual({ entries: 1, bytes: 400 });
  });

  it('checks the quota shortly after an object is stored through the hooked store', async () => {
    const store = await storeWith(500);
    enforcer = new QuotaEnforcer({ store, logger, sweepIntervalMs: 0, debounceMs: 10 });
    enforcer.start();
    const hooked = withEntryHooks(store, { stored: (registryId) => enforcer?.notifyStored(registryId) });
    await put(store, 'old/blobs/1', 400, digest('1'), 2);
    expect(await pendingPaths(store)).toEqual([]);
    // Through the hook: the second object pushes usage over 500.
    await hooked.cacheEntries.upsert({
      upstreamId: '1',
      registryId: '1',
      relativePath: 'new/blobs/2',
      digest: digest('2'),
      contentType: 'x',
      size: 300,
      upstreamCheckedAt: new Date(),
    });
    await expect.poll(() => pendingPaths(store), { timeout: 2000 }).toEqual(['old/blobs/1']);
    // The hooked store still reads through to the real one.
    expect((await hooked.registries.get('1'))?.maxStoredBytes).toBe(500);
  });
});
