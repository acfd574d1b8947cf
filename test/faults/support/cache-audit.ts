import { createHash } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { MongoClient } from 'mongodb';

/** An object a client asked for, which must end stored and recorded. */
export interface Requested {
  relativePath: string;
  digest: string;
}

export interface AuditResult {
  /** Cache entries whose stored bytes were read back and hashed. */
  entriesVerified: number;
  /** Entries (or stored objects) whose bytes are missing or do not hash to the digest, with why. */
  corrupt: string[];
  /** Requested objects with no entry once the wait was over. */
  lost: string[];
}

/**
 * Checks the cache the way an auditor would, bypassing vreg: every entry in
 * the catalog's database against the bytes in the bucket, and every object
 * in the bucket against the digest in its key.
 */
export class CacheAudit {
  readonly #mongo: MongoClient;
  readonly #s3: S3Client;

  constructor(readonly where: { mongoUrl: string; db: string; s3Endpoint: string; bucket: string }) {
    this.#mongo = new MongoClient(where.mongoUrl, { serverSelectionTimeoutMS: 5000 });
    this.#s3 = new S3Client({
      endpoint: where.s3Endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
  }

  async entries(): Promise<Array<{ relative_path: string; digest: string; size: number; upstream_id: number }>> {
    const docs = await this.#mongo.db(this.where.db).collection('cache_entries').find({}).toArray();
    return docs as unknown as Array<{ relative_path: string; digest: string; size: number; upstream_id: number }>;
  }

  /**
   * Waits (bounded) until every requested object has an entry, then hashes
   * the stored bytes of every entry and every object in the bucket.
   */
  async run(requested: Requested[], timeoutMs = 90_000): Promise<AuditResult> {
    const deadline = Date.now() + timeoutMs;
    let lost: string[];
    for (;;) {
      const recorded = new Set((await this.entries().catch(() => [])).map((e) => `${e.relative_path}@${e.digest}`));
      lost = requested.filter((r) => !recorded.has(`${r.relativePath}@${r.digest}`)).map((r) => r.relativePath);
      if (lost.length === 0 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const corrupt: string[] = [];
    const entries = await this.entries();
    for (const e of entries) {
      const problem = await this.#check(e.digest, e.size);
      if (problem) corrupt.push(`entry ${e.relative_path}: ${problem}`);
    }
    for (const key of await this.#keys()) {
      const m = key.match(/^blobs\/sha256\/[a-f0-9]{2}\/([a-f0-9]{64})$/);
      if (!m) {
        corrupt.push(`stray object ${key}`);
        continue;
      }
      const problem = await this.#check(`sha256:${m[1]}`);
      if (problem) corrupt.push(`object ${key}: ${problem}`);
    }
    return { entriesVerified: entries.length, corrupt, lost };
  }

  /** Why the stored bytes of `digest` are wrong, or undefined when they hash to it. */
  async #check(digest: string, size?: number): Promise<string | undefined> {
    const hex = digest.replace(/^sha256:/, '');
    const res = await this.#s3
      .send(new GetObjectCommand({ Bucket: this.where.bucket, Key: `blobs/sha256/${hex.slice(0, 2)}/${hex}` }))
      .catch((err: Error) => err);
    if (res instanceof Error) return `not stored (${res.name})`;
    const bytes = Buffer.from(await res.Body!.transformToByteArray());
    const actual = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (actual !== digest) return `bytes hash to ${actual}`;
    if (size !== undefined && bytes.length !== size) return `${bytes.length} bytes stored, entry says ${size}`;
    return undefined;
  }

  async #keys(): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.#s3.send(new ListObjectsV2Command({ Bucket: this.where.bucket, ContinuationToken: token }));
      for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
      token = page.NextContinuationToken;
    } while (token);
    return keys;
  }

  async close(): Promise<void> {
    await this.#mongo.close().catch(() => undefined);
    this.#s3.destroy();
  }
}
