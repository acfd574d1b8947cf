import { describe, expect, it } from 'vitest';
import { useMongoTestDatabases } from '../testing/mongo-test-databases.ts';
import { MongoCatalogStore } from './mongo-catalog-store.ts';

const mongo = useMongoTestDatabases();

describe('MongoCatalogStore and access control', () => {
  it('marks registries written before access control private when it connects', async () => {
    const dbName = mongo.newDbName('catalog_migrate');
    await mongo.client
      .db(dbName)
      .collection('registries')
      .insertOne({ id: 1, name: 'old', created_at: new Date(), updated_at: new Date() });
    const store = await MongoCatalogStore.connect({ url: mongo.url, dbName });
    try {
      expect(await store.registries.get('1')).toMatchObject({ name: 'old', visibility: 'private' });
      expect(await mongo.client.db(dbName).collection('registries').findOne({ id: 1 })).toMatchObject({ visibility: 'private' });
    } finally {
      await store.close();
    }
  });

  it('stores an access token as snake_case fields with its digest only, unique on the digest', async () => {
    const dbName = mongo.newDbName('catalog_tokens');
    const store = await MongoCatalogStore.connect({ url: mongo.url, dbName });
    try {
      const token = await store.accessTokens.create({
        name: 'ci',
        tokenDigest: 'd'.repeat(64),
        tokenPrefix: 'vregat_dddd',
        scopes: ['read_virtual_registry'],
        registryIds: ['2'],
      });
      const doc = await mongo.client
        .db(dbName)
        .collection('access_tokens')
        .findOne({}, { projection: { _id: 0 } });
      expect(doc).toMatchObject({
        id: Number(token.id),
        name: 'ci',
        token_digest: 'd'.repeat(64),
        token_prefix: 'vregat_dddd',
        scopes: ['read_virtual_registry'],
        registry_ids: [2],
      });
      expect(Object.keys(doc ?? {})).not.toContain('token');
      await expect(
        mongo.client
          .db(dbName)
          .collection('access_tokens')
          .insertOne({ id: 999, token_digest: 'd'.repeat(64) }),
      ).rejects.toMatchObject({ code: 11000 });
    } finally {
      await store.close();
    }
  });
});
