import { createLogger } from '@vreg/logging';
import { describe, expect, it } from 'vitest';
import { MemoryCatalogStore } from '../adapters/memory/memory-catalog-store.ts';
import { type CacheEntry, compareByActivity, lastActivityOf } from '../domain/cache-entry.ts';
import { DAY_MS } from '../domain/cleanup-policy.ts';
import type { CacheEntryRepository } from '../ports/cache-entry-repository.ts';
import type { CatalogStore } from '../ports/catalog-store.ts';
import { CleanupPolicies } from './cleanup-policies.ts';
import type { JobReporter } from './job-worker.ts';
import { PurgeJobs } from './purge-jobs.ts';
import { QuotaEnforcer } from './quota-enforcer.ts';
import { RegistryUsageReader } from './registry-usage.ts';

/**
 * The lifecycle sweeps never hold a whole registry: every read of entries
 * returns at most one batch, while the registry holds several batches'
 * worth, and the outcome equals what the former whole-registry scan
 * (findAll, then filter/sort in memory) computed.
 */

const BATCH = 7;
/** Several batches' worth in each upstream. */
const PER_UPSTREAM = BATCH * 4 + 3;
const logger = createLogger({ level: 'silent', name: 'bounded-sweeps-test' });
const digest = (n: number): string => `sha256:${n.toString(16).padStart(64, '0')}`;
const NOW = Date.now();

/** Registry 1 (upstreams 1 and 2) full of entries; digests shared between paths; some downloaded long ago, some never. */
async function bigStore(): Promise<MemoryCatalogStore> {
  const store = new MemoryCatalogStore();
  await store.registries.create({ name: 'big' });
  await store.registries.create({ name: 'other' });
  for (const name of ['u1', 'u2'])
    await store.upstreams.create({ registryId: '1', name, url: `https://${name}.example`, cacheValidityHours: 24 });
  await store.upstreams.create({ registryId: '2', name: 'u3', url: 'https://u3.example', cacheValidityHours: 24 });
  for (const upstreamId of ['1', '2']) {
    for (let i = 0; i < PER_UPSTREAM; i += 1) {
      const image = i % 3 === 0 ? 'library/alpine' : i % 3 === 1 ? 'library/alpine-extra' : 'team/app';
      const relativePath = i % 4 === 0 ? `${image}/manifests/v${i}` : `${image}/blobs/sha256:${i}`;
      // Every fifth digest is shared by the next path too (a digest under two paths counts once).
      const n = i % 5 === 0 ? i + 1 : i;
      await store.cacheEntries.upsert({
        upstreamId,
        registryId: '1',
        relativePath,
        digest: digest(n),
        contentType: 'application/octet-stream',
        size: 100 + n,
        upstreamCheckedAt: new Date(NOW),
      });
      // Two thirds downloaded, 1..40 days ago, some on the same day (ties go by path, then upstream).
      if (i % 3 !== 2) await store.cacheEntries.recordDownloads(upstreamId, relativePath, 1, new Date(NOW - (1 + (i % 40)) * DAY_MS));
    }
  }
  await store.cacheEntries.upsert({
    upstreamId: '3',
    registryId: '2',
    relativePath: 'library/alpine/manifests/v0',
    digest: digest(1),
    contentType: 'x',
    size: 5,
    upstreamCheckedAt: new Date(NOW),
  });
  await store.cacheEntries.recordDownloads('3', 'library/alpine/manifests/v0', 1, new Date(NOW - 100 * DAY_MS));
  return store;
}

interface Spy {
  store: CatalogStore;
  /** Entries each read returned. */
  reads: number[];
}

/** The store, except that every read of several entries is recorded, and the unbounded findAll fails. */
function spied(store: CatalogStore): Spy {
  const reads: number[] = [];
  const entries = new Proxy(store.cacheEntries, {
    get(target, prop) {
      if (prop === 'findAll') return () => Promise.reject(new Error('findAll reads a whole registry'));
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const result: unknown = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        if (Array.isArray(result)) reads.push(result.length);
        return result;
      };
    },
  }) as CacheEntryRepository;
  return {
    store: new Proxy(store, { get: (target, prop) => (prop === 'cacheEntries' ? entries : Reflect.get(target, prop, target)) }),
    reads,
  };
}

function expectBounded(reads: number[]): void {
  expect(reads.length).toBeGreaterThan(2);
  expect(Math.max(...reads)).toBeLessThanOrEqual(BATCH);
}

const reporter: JobReporter = { progress: async () => {}, error: async () => {} };
const keyOf = (e: CacheEntry): string => `${e.upstreamId}:${e.relativePath}`;
const pending = async (store: MemoryCatalogStore): Promise<string[]> =>
  (await store.cacheEntries.findAll({ status: 'pending_destruction' })).map(keyOf).sort();

/** The former usage computation: over every live entry in memory. */
function wholeScanUsage(live: readonly CacheEntry[]): { storedBytes: number; entriesCount: number } {
  const seen = new Set<string>();
  let storedBytes = 0;
  for (const e of live) {
    if (seen.has(`${e.upstreamId}:${e.digest}`)) continue;
    seen.add(`${e.upstreamId}:${e.digest}`);
    storedBytes += e.size;
  }
  return { storedBytes, entriesCount: live.length };
}

/** The former quota eviction: every live entry sorted in memory, a digest freed with its last entry. */
function wholeScanEviction(live: readonly CacheEntry[], quota: number): string[] {
  let used = wholeScanUsage(live).storedBytes;
  const holders = new Map<string, number>();
  for (const e of live) holders.set(`${e.upstreamId}:${e.digest}`, (holders.get(`${e.upstreamId}:${e.digest}`) ?? 0) + 1);
  const marked: string[] = [];
  for (const e of [...live].sort(compareByActivity)) {
    if (used <= quota) break;
    marked.push(keyOf(e));
    const left = (holders.get(`${e.upstreamId}:${e.digest}`) ?? 1) - 1;
    holders.set(`${e.upstreamId}:${e.digest}`, left);
    if (left === 0) used -= e.size;
  }
  return marked.sort();
}

describe('lifecycle sweeps over a registry larger than a batch', () => {
  it('reads usage as the store sums it, without reading entries', async () => {
    const store = await bigStore();
    const live = await store.cacheEntries.findAll({ registryId: '1', status: 'default' });
    const spy = spied(store);
    const usage = await new RegistryUsageReader(spy.store).read('1');
    expect(spy.reads.every((n) => n <= 2)).toBe(true); // the two upstreams' usage rows and the upstream list, no entries
    expect({ storedBytes: usage.storedBytes, entriesCount: usage.entriesCount }).toEqual(wholeScanUsage(live));
    expect(usage.upstreams.map((u) => u.entriesCount)).toEqual([PER_UPSTREAM, PER_UPSTREAM]);
  });

  it('evicts for a quota a batch at a time, the same entries the whole scan chose', async () => {
    const store = await bigStore();
    const live = await store.cacheEntries.findAll({ registryId: '1', status: 'default' });
    const quota = Math.floor(wholeScanUsage(live).storedBytes / 3);
    const expected = wholeScanEviction(live, quota);
    expect(expected.length).toBeGreaterThan(BATCH * 3);
    await store.registries.update('1', { maxStoredBytes: quota });
    const spy = spied(store);
    const outcome = await new QuotaEnforcer({ store: spy.store, logger, sweepIntervalMs: 0, batchSize: BATCH }).enforce('1');
    expectBounded(spy.reads);
    expect(await pending(store)).toEqual(expected);
    expect(outcome.entries).toBe(expected.length);
    expect((await new RegistryUsageReader(store).read('1')).storedBytes).toBeLessThanOrEqual(quota);
  });

  it('cleans up a batch at a time, the cut-off in the query, the same entries the whole scan chose', async () => {
    const store = await bigStore();
    const cutoff = NOW - 10 * DAY_MS;
    const live = await store.cacheEntries.findAll({ registryId: '1', status: 'default' });
    const expected = live
      .filter((e) => lastActivityOf(e).getTime() < cutoff)
      .map(keyOf)
      .sort();
    expect(expected.length).toBeGreaterThan(BATCH * 3);
    const spy = spied(store);
    const policies = new CleanupPolicies({ store: spy.store, now: () => new Date(NOW), batchSize: BATCH });
    await policies.put('1', { enabled: true, keepNDaysAfterDownload: 10, cadence: 1 });
    const job = await spy.store.jobs.create({ kind: 'cleanup', registryId: '1', params: { registry_id: '1', trigger: 'manual' } });
    const result = await policies.handler(job, reporter);
    expectBounded(spy.reads);
    expect(await pending(store)).toEqual(expected);
    expect(result).toMatchObject({ deleted_entries_count: expected.length });
  });

  it('purges a registry and an image a batch at a time, the same entries the whole scan chose', async () => {
    for (const params of [{ registry_id: '1' }, { registry_id: '1', image: 'library/alpine' }, { upstream_id: '2' }]) {
      const store = await bigStore();
      const live = await store.cacheEntries.findAll({ status: 'default' });
      const expected = live
        .filter((e) => ('upstream_id' in params ? e.upstreamId === '2' : e.registryId === '1'))
        .filter(
          (e) =>
            !('image' in params) ||
            e.relativePath.startsWith('library/alpine/manifests/') ||
            e.relativePath.startsWith('library/alpine/blobs/'),
        )
        .map(keyOf)
        .sort();
      expect(expected.length).toBeGreaterThan(BATCH * 2);
      const spy = spied(store);
      const purges = new PurgeJobs({ store: spy.store, batchSize: BATCH });
      const job = await spy.store.jobs.create({ kind: 'purge', registryId: '1', params });
      const result = await purges.handler(job, reporter);
      expectBounded(spy.reads);
      expect(await pending(store)).toEqual(expected);
      expect(result).toMatchObject({ entries_marked: expected.length });
    }
  });
});
