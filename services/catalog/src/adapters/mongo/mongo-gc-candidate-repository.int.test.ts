import { describeGcCandidateRepository } from '../testing/describe-gc-candidate-repository.ts';
import { useMongoTestDatabases } from '../testing/mongo-test-databases.ts';
import { MongoCatalogStore } from './mongo-catalog-store.ts';

const mongo = useMongoTestDatabases();

describeGcCandidateRepository('MongoGcCandidateRepository', async () => {
  const dbName = mongo.newDbName('catalog_gc');
  const store = await MongoCatalogStore.connect({ url: mongo.url, dbName });
  return {
    store,
    async markPending(upstreamId, relativePath) {
      await mongo.client
        .db(dbName)
        .collection('cache_entries')
        .updateOne({ upstream_id: Number(upstreamId), relative_path: relativePath }, { $set: { status: 'pending_destruction' } });
    },
  };
});
