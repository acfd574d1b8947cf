import { MongoClient } from 'mongodb';
import { afterAll, beforeAll } from 'vitest';
import { describeGcCandidateRepository } from '../testing/describe-gc-candidate-repository.ts';
import { startMongoTestServer, uniqueDbName, type MongoTestServer } from '../testing/mongo-test-server.ts';
import { MongoCatalogStore } from './mongo-catalog-store.ts';

let server: MongoTestServer;
let client: MongoClient;
const dbNames: string[] = [];

beforeAll(async () => {
  server = await startMongoTestServer();
  client = new MongoClient(server.url);
  await client.connect();
});

afterAll(async () => {
  if (server === undefined) return;
  try {
    for (const name of dbNames) await client.db(name).dropDatabase();
  } finally {
    await client.close();
    await server.stop();
  }
});

describeGcCandidateRepository('MongoGcCandidateRepository', async () => {
  const dbName = uniqueDbName('catalog_gc');
  dbNames.push(dbName);
  const store = await MongoCatalogStore.connect({ url: server.url, dbName });
  return {
    store,
    async markPending(upstreamId, relativePath) {
      await client.db(dbName).collection('cache_entries').updateOne({ upstream_id: Number(upstreamId), relative_path: relativePath }, { $set: { status: 'pending_destruction' } });
    },
  };
});
