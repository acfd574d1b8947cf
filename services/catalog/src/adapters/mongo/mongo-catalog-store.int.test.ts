import { MongoClient } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { describeCatalogStore } from '../testing/describe-catalog-store.ts';
import { useMongoTestDatabases } from '../testing/mongo-test-databases.ts';
import { MongoCatalogStore } from './mongo-catalog-store.ts';

const mongo = useMongoTestDatabases();
/** The database of the store `open` made last (a second connection joins it). */
let lastDbName = '';

async function open(): Promise<MongoCatalogStore> {
  lastDbName = mongo.newDbName('catalog');
  return MongoCatalogStore.connect({ url: mongo.url, dbName: lastDbName });
}

describeCatalogStore('MongoCatalogStore', open);

describe('MongoCatalogStore documents', () => {
  it('stores snake_case documents with numeric ids and a unique natural key on cache entries', async () => {
    const store = await open();
    const dbName = lastDbName;
    const registry = await store.registries.create({ name: 'docs' });
    const upstream = await store.upstreams.create({
      registryId: registry.id,
      name: 'hub',
      url: 'https://hub.example',
      cacheValidityHours: 24,
    });
    await store.cacheEntries.upsert({
      upstreamId: upstream.id,
      registryId: registry.id,
      relativePath: 'library/alpine/manifests/3',
      digest: `sha256:${'c'.repeat(64)}`,
      contentType: 'application/vnd.oci.image.index.v1+json',
      size: 10,
      upstreamCheckedAt: new Date('2025-01-01T00:00:00Z'),
    });
    await store.close();

    const client = new MongoClient(mongo.url);
    await client.connect();
    try {
      const db = client.db(dbName);
      const up = await db.collection('upstreams').findOne({}, { projection: { _id: 0 } });
      expect(up).toMatchObject({ id: Number(upstream.id), registry_id: Number(registry.id), cache_validity_hours: 24, position: 0 });
      const entry = await db.collection('cache_entries').findOne({}, { projection: { _id: 0 } });
      expect(entry).toMatchObject({
        upstream_id: Number(upstream.id),
        relative_path: 'library/alpine/manifests/3',
        downloads_count: 0,
        status: 'default',
      });
      await expect(
        db.collection('cache_entries').insertOne({ upstream_id: Number(upstream.id), relative_path: 'library/alpine/manifests/3' }),
      ).rejects.toMatchObject({ code: 11000 });
    } finally {
      await client.close();
    }
  });

  it('hands each queued job and each due cleanup run to one of two replicas (two connections) racing for them', async () => {
    const first = await open();
    const second = await MongoCatalogStore.connect({ url: mongo.url, dbName: lastDbName });
    try {
      const created: string[] = [];
      for (let i = 0; i < 4; i += 1) created.push((await first.jobs.create({ kind: 'purge', registryId: '1', params: {} })).id);
      const claimed: string[] = [];
      const drain = async (store: MongoCatalogStore): Promise<void> => {
        for (
          let job = await store.jobs.claimQueued('purge', new Date());
          job !== undefined;
          job = await store.jobs.claimQueued('purge', new Date())
        )
          claimed.push(job.id);
      };
      await Promise.all([drain(first), drain(second), drain(first), drain(second)]);
      expect([...claimed].sort()).toEqual([...created].sort());

      const now = new Date('2030-01-01T00:00:00.000Z');
      await first.cleanupPolicies.put('1', {
        enabled: true,
        keepNDaysAfterDownload: 1,
        cadence: 1,
        nextRunAt: new Date(now.getTime() - 1),
      });
      const runs = (
        await Promise.all([first.cleanupPolicies.claimDue(now), second.cleanupPolicies.claimDue(now), first.cleanupPolicies.claimDue(now)])
      ).flat();
      expect(runs.map((p) => p.registryId)).toEqual(['1']);
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('takes over the claim of a queued job whose claimer died before starting it, once the claim is stale', async () => {
    const store = await open();
    const client = new MongoClient(mongo.url);
    await client.connect();
    try {
      const claims = client.db(lastDbName).collection('job_claims');
      const now = new Date('2030-01-01T00:00:00.000Z');
      const fresh = await store.jobs.create({ kind: 'purge', registryId: '1', params: {} });
      await claims.insertOne({ job_id: Number(fresh.id), claimed_at: new Date(now.getTime() - 10_000) });
      // A claim of seconds ago: its replica may be starting the job right now.
      expect(await store.jobs.claimQueued('purge', now)).toBeUndefined();

      await claims.updateOne({ job_id: Number(fresh.id) }, { $set: { claimed_at: new Date(now.getTime() - 2 * 60_000) } });
      expect(await store.jobs.claimQueued('purge', now)).toMatchObject({ id: fresh.id, state: 'running' });
      expect(await store.jobs.claimQueued('purge', now)).toBeUndefined();
    } finally {
      await client.close();
      await store.close();
    }
  });

  it('takes over the claim of a due cleanup run whose claimer died before moving it on, once the claim is stale', async () => {
    const store = await open();
    const client = new MongoClient(mongo.url);
    await client.connect();
    try {
      const claims = client.db(lastDbName).collection('cleanup_policy_claims');
      const now = new Date('2030-01-01T00:00:00.000Z');
      const due = new Date(now.getTime() - 1);
      await store.cleanupPolicies.put('1', { enabled: true, keepNDaysAfterDownload: 1, cadence: 1, nextRunAt: due });
      await claims.insertOne({ registry_id: 1, run_at: due, claimed_at: new Date(now.getTime() - 10_000) });
      expect(await store.cleanupPolicies.claimDue(now)).toEqual([]);

      await claims.updateOne({ registry_id: 1 }, { $set: { claimed_at: new Date(now.getTime() - 2 * 60_000) } });
      expect((await store.cleanupPolicies.claimDue(now)).map((p) => p.registryId)).toEqual(['1']);
      expect(await store.cleanupPolicies.claimDue(now)).toEqual([]);
    } finally {
      await client.close();
      await store.close();
    }
  });

  it('creates its indexes again without error when reconnecting to an existing database', async () => {
    const first = await open();
    await first.registries.create({ name: 'again' });
    await first.close();
    const second = await MongoCatalogStore.connect({ url: mongo.url, dbName: lastDbName });
    expect((await second.registries.list({ page: 1, perPage: 10 })).total).toBe(1);
    await second.close();
  });
});
