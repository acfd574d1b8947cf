import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AdminApiHarness, startAdminApiHarness } from './testing/admin-api-harness.ts';

let api: AdminApiHarness;
beforeEach(async () => {
  api = await startAdminApiHarness();
});
afterEach(async () => {
  await api.close();
});

/** An error as the MongoDB driver throws it while the server is down. */
function driverError(name: string): Error {
  const err = new Error('connect ECONNREFUSED 10.0.0.7:27017');
  err.name = name;
  return err;
}

describe('admin API errors while the database is down', () => {
  it.each(['MongoServerSelectionError', 'MongoNetworkError', 'MongoNetworkTimeoutError'])(
    'answers 503 CATALOG_UNAVAILABLE, without the cause, on a %s',
    async (name) => {
      api.store.registries.list = async () => {
        throw driverError(name);
      };
      const res = await api.call('GET', '/registries');
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({
        errors: [{ code: 'CATALOG_UNAVAILABLE', message: 'the catalog database is unavailable; retry later', detail: null }],
      });
    },
  );

  it('still answers 500 INTERNAL to any other failure of the store', async () => {
    api.store.registries.list = async () => {
      throw driverError('MongoServerError');
    };
    expect((await api.call('GET', '/registries')).statusCode).toBe(500);
  });
});
