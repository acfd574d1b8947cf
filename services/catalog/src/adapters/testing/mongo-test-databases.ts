import { MongoClient } from 'mongodb';
import { afterAll, beforeAll } from 'vitest';
import { type MongoTestServer, startMongoTestServer, uniqueDbName } from './mongo-test-server.ts';

/** The Mongo server of one test file, with the databases its tests made. */
export interface MongoTestDatabases {
  /** Connection string of the server (valid once beforeAll ran). */
  readonly url: string;
  /** A client connected to the server, for looking at what the adapter stored. */
  readonly client: MongoClient;
  /** A fresh database name, dropped after the file's tests. */
  newDbName(prefix: string): string;
}

/**
 * Starts the test server and a client before the file's tests and, after
 * them, drops every database named through `newDbName`, closes the client and
 * stops the server. Call it at the top level of a mongo *.int.test.ts.
 */
export function useMongoTestDatabases(): MongoTestDatabases {
  let server: MongoTestServer | undefined;
  let client: MongoClient | undefined;
  const dbNames: string[] = [];

  beforeAll(async () => {
    server = await startMongoTestServer();
    client = new MongoClient(server.url);
    await client.connect();
  });

  afterAll(async () => {
    if (server === undefined) return;
    try {
      for (const name of dbNames) await client?.db(name).dropDatabase();
    } finally {
      await client?.close();
      await server.stop();
    }
  });

  return {
    get url() {
      if (server === undefined) throw new Error('the Mongo test server is not started yet (use it inside tests)');
      return server.url;
    },
    get client() {
      if (client === undefined) throw new Error('the Mongo test client is not connected yet (use it inside tests)');
      return client;
    },
    newDbName(prefix: string) {
      const name = uniqueDbName(prefix);
      dbNames.push(name);
      return name;
    },
  };
}
