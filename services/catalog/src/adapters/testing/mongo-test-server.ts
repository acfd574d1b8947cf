import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';

/** Where the FerretDB binary is installed on this project's machines. */
const FERRETDB_BIN = '/root/go/bin/ferretdb';

/** A MongoDB-wire server for integration tests. */
export interface MongoTestServer {
  /** Connection string without credentials. */
  readonly url: string;
  /** Stops the server if this helper started it (by its PID) and removes its files. */
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitUntilReady(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`ferretdb exited with code ${child.exitCode} before it answered`);
    const client = new MongoClient(url, { serverSelectionTimeoutMS: 500 });
    try {
      await client.connect();
      await client.db('admin').command({ ping: 1 });
      return;
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      await client.close();
    }
  }
  throw new Error(`ferretdb did not answer within ${timeoutMs} ms`, { cause: lastError });
}

/**
 * `VREG_TEST_MONGO_URL` when set (the test environment's server, MongoDB or
 * FerretDB); otherwise a FerretDB 1.24 with the SQLite backend started for
 * this test file on a free port, in a temporary directory.
 */
export async function startMongoTestServer(env: Record<string, string | undefined> = process.env): Promise<MongoTestServer> {
  const given = env.VREG_TEST_MONGO_URL;
  if (given !== undefined && given !== '') return { url: given, stop: async () => {} };

  const dir = mkdtempSync(join(tmpdir(), 'vreg-catalog-ferretdb-'));
  const port = await freePort();
  const child = spawn(
    FERRETDB_BIN,
    [
      '--handler=sqlite',
      `--sqlite-url=file:${dir}/`,
      `--listen-addr=127.0.0.1:${port}`,
      '--state-dir=-',
      '--debug-addr=-',
      '--telemetry=disable',
      '--log-level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.pid !== undefined) {
      process.kill(child.pid, 'SIGTERM');
      const timer = setTimeout(() => child.pid !== undefined && child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const url = `mongodb://127.0.0.1:${port}/`;
  try {
    await waitUntilReady(url, child, 30_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, stop };
}

/** A database name no other test uses. */
export function uniqueDbName(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}
