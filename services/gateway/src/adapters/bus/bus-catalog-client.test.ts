import { MemoryEventBus } from '@vreg/bus';
import {
  type CacheEntryView,
  EntryLookupRequestSchema,
  NameUnknownError,
  RegistryResolveRequestSchema,
  type RegistryView,
  Subjects,
} from '@vreg/contracts';
import { createLogger } from '@vreg/logging';
import { afterEach, describe, expect, it } from 'vitest';
import { BusCatalogClient } from './bus-catalog-client.ts';

const logger = createLogger({ level: 'silent', name: 'test' });
const registry: RegistryView = {
  id: '1',
  name: 'one',
  visibility: 'public',
  upstreams: [{ id: '10', name: 'a', url: 'http://upstream.test', position: 0, cacheValidityHours: 24 }],
};
const tagEntry: CacheEntryView = {
  upstreamId: '10',
  relativePath: 'library/alpine/manifests/latest',
  digest: `sha256:${'b'.repeat(64)}`,
  contentType: 'application/vnd.oci.image.manifest.v1+json',
  size: 10,
  upstreamCheckedAt: new Date(0).toISOString(),
};

let bus: MemoryEventBus;
afterEach(async () => {
  await bus.close();
});

/** A catalog on the bus whose database can be taken away: then every answer is a failure (INTERNAL). */
async function catalogOnBus(): Promise<{ client: BusCatalogClient; databaseDown: () => void }> {
  bus = new MemoryEventBus({ logger });
  let down = false;
  const failIfDown = (): void => {
    if (down) throw new Error('connect ECONNREFUSED 127.0.0.1:27017');
  };
  await bus.serve(Subjects.registryResolve, RegistryResolveRequestSchema, async () => {
    failIfDown();
    return registry;
  });
  await bus.serve(Subjects.entryLookup, EntryLookupRequestSchema, async () => {
    failIfDown();
    return { entry: tagEntry };
  });
  // TTLs of 0: every call asks the catalog, so the fallback is what answers.
  const client = new BusCatalogClient(bus, logger, { registryTtlMs: 0, tagTtlMs: 0, timeoutMs: 1000, maxEntries: 100 });
  return { client, databaseDown: () => (down = true) };
}

describe('BusCatalogClient when the catalog replies that it failed (its database is down)', () => {
  it('answers from its last registry and entry answers, so hits keep being served', async () => {
    const { client, databaseDown } = await catalogOnBus();
    await client.resolveRegistry('1');
    await client.lookupEntry('1', tagEntry.relativePath);
    databaseDown();
    await expect(client.resolveRegistry('1')).resolves.toMatchObject({ id: '1', name: 'one' });
    await expect(client.lookupEntry('1', tagEntry.relativePath)).resolves.toEqual(tagEntry);
  });

  it('asks the catalog again only once per TTL while it keeps failing, so requests do not each wait', async () => {
    bus = new MemoryEventBus({ logger });
    let asked = 0;
    let down = false;
    await bus.serve(Subjects.registryResolve, RegistryResolveRequestSchema, async () => {
      asked += 1;
      if (down) throw new Error('connect ECONNREFUSED 127.0.0.1:27017');
      return registry;
    });
    const client = new BusCatalogClient(bus, logger, { registryTtlMs: 50, tagTtlMs: 50, timeoutMs: 1000, maxEntries: 100 });
    await client.resolveRegistry('1');
    await new Promise((r) => setTimeout(r, 60));
    down = true;
    for (let i = 0; i < 5; i++) await expect(client.resolveRegistry('1')).resolves.toMatchObject({ id: '1' });
    expect(asked).toBe(2);
  });

  it('throws CATALOG_UNAVAILABLE (a 503), not INTERNAL, when it has nothing cached', async () => {
    const { client, databaseDown } = await catalogOnBus();
    databaseDown();
    await expect(client.resolveRegistry('1')).rejects.toMatchObject({ code: 'CATALOG_UNAVAILABLE' });
  });
});

describe('BusCatalogClient under concurrent lookups', () => {
  it('asks the catalog once for many concurrent lookups of one tag and one registry', async () => {
    bus = new MemoryEventBus({ logger });
    const asked = { registry: 0, entry: 0 };
    await bus.serve(Subjects.registryResolve, RegistryResolveRequestSchema, async () => {
      asked.registry += 1;
      return registry;
    });
    await bus.serve(Subjects.entryLookup, EntryLookupRequestSchema, async () => {
      asked.entry += 1;
      return { entry: tagEntry };
    });
    const client = new BusCatalogClient(bus, logger, { registryTtlMs: 60_000, tagTtlMs: 60_000, timeoutMs: 1000, maxEntries: 100 });
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => Promise.all([client.resolveRegistry('1'), client.lookupEntry('1', tagEntry.relativePath)])),
    );
    expect(answers.every(([r, e]) => r.id === '1' && e?.digest === tagEntry.digest)).toBe(true);
    expect(asked).toEqual({ registry: 1, entry: 1 });
  });

  it('answers with what a fill remembered while a lookup of the same entry was waiting for the catalog', async () => {
    bus = new MemoryEventBus({ logger });
    let answer: (() => void) | undefined;
    await bus.serve(Subjects.entryLookup, EntryLookupRequestSchema, async () => {
      await new Promise<void>((resolve) => {
        answer = resolve;
      });
      return { entry: undefined }; // the catalog has not consumed object.stored yet
    });
    const client = new BusCatalogClient(bus, logger, { registryTtlMs: 60_000, tagTtlMs: 60_000, timeoutMs: 5000, maxEntries: 100 });
    const digestEntry = { ...tagEntry, relativePath: `library/alpine/blobs/sha256:${'c'.repeat(64)}` };
    const lookup = client.lookupEntry('1', digestEntry.relativePath);
    while (answer === undefined) await new Promise((r) => setTimeout(r, 5));
    client.remember('1', digestEntry);
    answer();
    await expect(lookup).resolves.toEqual(digestEntry);
    await expect(client.lookupEntry('1', digestEntry.relativePath)).resolves.toEqual(digestEntry);
  });

  it('forgets a registry the catalog no longer knows (NAME_UNKNOWN), rather than serving it from the cache', async () => {
    bus = new MemoryEventBus({ logger });
    let known = true;
    await bus.serve(Subjects.registryResolve, RegistryResolveRequestSchema, async () => {
      if (!known) throw new NameUnknownError('no such registry');
      return registry;
    });
    const client = new BusCatalogClient(bus, logger, { registryTtlMs: 0, tagTtlMs: 0, timeoutMs: 1000, maxEntries: 100 });
    await client.resolveRegistry('1');
    known = false;
    await new Promise((r) => setTimeout(r, 5));
    await expect(client.resolveRegistry('1')).rejects.toMatchObject({ code: 'NAME_UNKNOWN' });
  });
});

describe('BusCatalogClient after the catalog removed entries (purge, cleanup, quota)', () => {
  const digestPath = `library/alpine/manifests/sha256:${'b'.repeat(64)}`;

  it('keeps a digest lookup forever, until the registry is forgotten: then it asks the catalog again', async () => {
    bus = new MemoryEventBus({ logger });
    let live = true;
    await bus.serve(Subjects.entryLookup, EntryLookupRequestSchema, async () => ({
      entry: live ? { ...tagEntry, relativePath: digestPath } : undefined,
    }));
    const client = new BusCatalogClient(bus, logger, { registryTtlMs: 0, tagTtlMs: 0, timeoutMs: 1000, maxEntries: 100 });
    await expect(client.lookupEntry('1', digestPath)).resolves.toMatchObject({ relativePath: digestPath });
    live = false;
    await expect(client.lookupEntry('1', digestPath)).resolves.toMatchObject({ relativePath: digestPath });
    client.forgetRegistry('2');
    await expect(client.lookupEntry('1', digestPath)).resolves.toMatchObject({ relativePath: digestPath });
    client.forgetRegistry('1');
    await expect(client.lookupEntry('1', digestPath)).resolves.toBeUndefined();
  });

  it('no longer answers an expired tag from its cache once the registry is forgotten', async () => {
    bus = new MemoryEventBus({ logger });
    let live = true;
    await bus.serve(Subjects.entryLookup, EntryLookupRequestSchema, async () => ({ entry: live ? tagEntry : undefined }));
    const client = new BusCatalogClient(bus, logger, { registryTtlMs: 0, tagTtlMs: 0, timeoutMs: 1000, maxEntries: 100 });
    await client.lookupEntry('1', tagEntry.relativePath);
    live = false;
    client.forgetRegistry('1');
    await expect(client.lookupEntry('1', tagEntry.relativePath)).resolves.toBeUndefined();
  });
});
