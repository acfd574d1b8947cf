import { randomUUID } from 'node:crypto';
import { addAbortSignal, type Readable } from 'node:stream';
import {
  type BucketLocationConstraint,
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { LRUCache } from 'lru-cache';
import { blobKey } from '../blob-key.ts';
import type { BlobRead, BlobStat, BlobStore, BlobWriter, ByteRange } from '../blob-store.ts';
import { BlobRangeInvalidError, BlobStoreUnavailableError } from '../errors.ts';
import { checkRange } from '../resolve-range.ts';
import { VerifyingBlobWriter } from '../verifying-blob-writer.ts';
import { S3BlobSink } from './s3-blob-sink.ts';
import { isS3NotFound, s3Call, s3ErrorName, s3Status } from './s3-call.ts';

const MIB = 1024 * 1024;
/**
 * Connections to S3 per store. The SDK's default (50) queues the 51st
 * concurrent GetObject: 50 clients streaming hits plus the fills' part
 * uploads would wait on each other.
 */
const MAX_SOCKETS = 256;
/** Presigned URLs remembered; past it the least recently used is signed again when next asked for. */
const PRESIGNED_KEPT = 10_000;
// S3's limits for every part but the last.
const MIN_PART_SIZE = 5 * MIB;
const MAX_PART_SIZE = 5 * 1024 * MIB;

/** Options of {@link S3BlobStore}. */
export interface S3BlobStoreOptions {
  /** A ready client; when given, the connection options below are ignored and `close()` leaves it open. */
  client?: S3Client;
  /** Endpoint URL of an S3-compatible server (MinIO, moto, Ceph); AWS when absent. */
  endpoint?: string;
  /** Region, e.g. `us-east-1`; also the LocationConstraint of `ensureBucket()`. */
  region: string;
  /** Bucket holding the blobs. */
  bucket: string;
  /** Static credentials; the SDK's default provider chain when absent. */
  accessKeyId?: string;
  /** Secret of `accessKeyId`. */
  secretAccessKey?: string;
  /** Path-style URLs (`endpoint/bucket/key`), needed by most S3-compatible servers. */
  forcePathStyle?: boolean;
  /** Key prefix inside the bucket, e.g. `vreg`; blobs go to `<prefix>/blobs/...`. */
  prefix?: string;
  /** Multipart part size in bytes (5 MiB to 5 GiB); a write holds two parts in memory at most. Default 8 MiB. */
  partSizeBytes?: number;
}

/**
 * A `BlobStore` on S3 or an S3-compatible server (distributed mode). Keys are
 * `[<prefix>/]blobs/<algorithm>/<2 hex>/<hex>`. A write holds at most two parts
 * in memory (one uploading, one filling) and makes nothing visible before its digest is verified. Objects
 * are never rewritten in place, so concurrent writers of one digest are safe.
 * `presignGet` signs GET URLs locally, for redirecting blob hits.
 */
export class S3BlobStore implements BlobStore {
  /** The bucket holding the blobs. */
  readonly bucket: string;
  readonly #client: S3Client;
  readonly #ownsClient: boolean;
  readonly #region: string;
  readonly #prefix: string;
  readonly #partSizeBytes: number;
  /** digest|expiry → a presigned URL, until half its validity is gone. */
  // On the wall clock, as the signatures' own validity is.
  readonly #presigned = new LRUCache<string, string>({ max: PRESIGNED_KEPT, ttlResolution: 0, perf: { now: () => Date.now() } });
  /** This instance's own readiness object, so replicas probing at once never delete each other's. */
  readonly #probeKey: string;

  /** @throws RangeError for a part size outside S3's limits. */
  constructor(opts: S3BlobStoreOptions) {
    const partSizeBytes = opts.partSizeBytes ?? 8 * MIB;
    if (!Number.isSafeInteger(partSizeBytes) || partSizeBytes < MIN_PART_SIZE || partSizeBytes > MAX_PART_SIZE) {
      throw new RangeError(`partSizeBytes ${partSizeBytes} is outside S3's part limits (5 MiB to 5 GiB)`);
    }
    this.bucket = opts.bucket;
    this.#region = opts.region;
    this.#partSizeBytes = partSizeBytes;
    const prefix = (opts.prefix ?? '').replace(/^\/+|\/+$/g, '');
    this.#prefix = prefix === '' ? '' : `${prefix}/`;
    this.#probeKey = `${this.#prefix}_vreg/readiness/${randomUUID()}`;
    this.#ownsClient = opts.client === undefined;
    this.#client =
      opts.client ??
      new S3Client({
        region: opts.region,
        endpoint: opts.endpoint,
        forcePathStyle: opts.forcePathStyle ?? false,
        credentials:
          opts.accessKeyId !== undefined && opts.secretAccessKey !== undefined
            ? { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey }
            : undefined,
        // The default (CRC32 on every request) turns stream bodies into
        // aws-chunked uploads that S3-compatible servers mishandle; we verify
        // the digest ourselves anyway.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        requestHandler: {
          httpAgent: { keepAlive: true, maxSockets: MAX_SOCKETS },
          httpsAgent: { keepAlive: true, maxSockets: MAX_SOCKETS },
        },
      });
  }

  /** The object key of a blob in the bucket. @throws InvalidDigestError */
  key(digest: string): string {
    return this.#prefix + blobKey(digest);
  }

  /** Creates the bucket if it does not exist (tests, first start). @throws BlobStoreUnavailableError */
  async ensureBucket(): Promise<void> {
    const Bucket = this.bucket;
    try {
      await this.#client.send(new HeadBucketCommand({ Bucket }));
      return;
    } catch (err) {
      if (!isS3NotFound(err) && s3ErrorName(err) !== 'NoSuchBucket') {
        throw new BlobStoreUnavailableError(`S3 HeadBucket ${Bucket} failed`, err);
      }
    }
    const config = this.#region === 'us-east-1' ? undefined : { LocationConstraint: this.#region as BucketLocationConstraint };
    try {
      await this.#client.send(new CreateBucketCommand({ Bucket, CreateBucketConfiguration: config }));
    } catch (err) {
      // Lost a race with another creator: fine.
      if (s3ErrorName(err) === 'BucketAlreadyOwnedByYou') return;
      throw new BlobStoreUnavailableError(`S3 CreateBucket ${Bucket} failed`, err);
    }
  }

  /**
   * Readiness: PutObject then DeleteObject of a 2-byte object under
   * `_vreg/readiness/` (GC and the blob keys never look there). A HEAD
   * cannot tell a missing bucket from a missing object (its 404 has no
   * body), so only a write proves the bucket is there and takes writes.
   * @throws BlobStoreUnavailableError naming the bucket and what S3 said.
   */
  async probeWritable(signal?: AbortSignal): Promise<void> {
    const Bucket = this.bucket;
    const Key = this.#probeKey;
    try {
      await this.#client.send(new PutObjectCommand({ Bucket, Key, Body: 'ok', ContentType: 'text/plain' }), { abortSignal: signal });
      await this.#client.send(new DeleteObjectCommand({ Bucket, Key }), { abortSignal: signal });
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      const name = s3ErrorName(err) ?? 'error';
      const why =
        name === 'NoSuchBucket'
          ? `S3 bucket ${Bucket} does not exist: create it, or set VREG_S3_CREATE_BUCKET=true to have vreg create it`
          : name === 'AccessDenied' || s3Status(err) === 403
            ? `S3 bucket ${Bucket} refuses writes (${name}): give these credentials s3:PutObject and s3:DeleteObject on it`
            : `S3 bucket ${Bucket} cannot be written (${name})`;
      throw new BlobStoreUnavailableError(why, err);
    }
  }

  /** Size of a stored blob (HeadObject), or `undefined`. @throws InvalidDigestError, BlobStoreUnavailableError */
  async stat(digest: string, signal?: AbortSignal): Promise<BlobStat | undefined> {
    const Key = this.key(digest);
    try {
      const head = await s3Call(
        'HeadObject',
        signal,
        () => this.#client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }), { abortSignal: signal }),
        isS3NotFound,
      );
      return { size: requireLength(head.ContentLength, 'HeadObject') };
    } catch (err) {
      if (isS3NotFound(err)) return undefined;
      throw err;
    }
  }

  /**
   * Streams a stored blob or a range of it (GetObject with Range), or `undefined`.
   * @throws InvalidDigestError, BlobRangeInvalidError, BlobStoreUnavailableError
   */
  async get(digest: string, opts?: { range?: ByteRange; signal?: AbortSignal }): Promise<BlobRead | undefined> {
    const Key = this.key(digest);
    const { range, signal } = opts ?? {};
    if (range !== undefined) checkRange(range);
    const Range = range === undefined ? undefined : `bytes=${range.start}-${range.end ?? ''}`;
    let res;
    try {
      res = await s3Call(
        'GetObject',
        signal,
        () => this.#client.send(new GetObjectCommand({ Bucket: this.bucket, Key, Range }), { abortSignal: signal }),
        (err) => isS3NotFound(err) || s3Status(err) === 416,
      );
    } catch (err) {
      if (isS3NotFound(err)) return undefined;
      if (s3Status(err) !== 416) throw err;
      // InvalidRange: look up the size so the gateway can answer `bytes */size`.
      const stat = await this.stat(digest, signal);
      if (stat === undefined) return undefined;
      throw new BlobRangeInvalidError(`range start ${range?.start} is past the end of a ${stat.size}-byte blob`, stat.size);
    }
    const body = res.Body as Readable | undefined;
    if (body === undefined) throw new BlobStoreUnavailableError('S3 GetObject returned no body');
    if (signal) addAbortSignal(signal, body);
    return { body, size: requireLength(res.ContentLength, 'GetObject') };
  }

  /**
   * A presigned GET URL for the blob, valid at least `expiresInSeconds / 2`
   * more seconds: blob hits can be redirected so the bytes bypass the
   * gateway. Signing is local (no S3 request) but costs ~350 µs of CPU, so a
   * URL is handed out again until half its validity is gone (the same URL
   * for every client meanwhile, which caches downstream also like). The
   * caller knows from its catalog that the object exists.
   * @throws InvalidDigestError
   */
  async presignGet(digest: string, expiresInSeconds: number): Promise<string | undefined> {
    const key = this.key(digest);
    const memo = `${key}|${expiresInSeconds}`;
    const known = this.#presigned.get(memo);
    if (known !== undefined) return known;
    const url = await getSignedUrl(this.#client, new GetObjectCommand({ Bucket: this.bucket, Key: key }), { expiresIn: expiresInSeconds });
    this.#presigned.set(memo, url, { ttl: (expiresInSeconds * 1000) / 2 });
    return url;
  }

  /** Starts a verified write (single PUT or multipart). @throws InvalidDigestError */
  async beginWrite(digest: string, opts?: { expectedSize?: number; signal?: AbortSignal }): Promise<BlobWriter> {
    const key = this.key(digest);
    opts?.signal?.throwIfAborted();
    const sink = new S3BlobSink({
      client: this.#client,
      bucket: this.bucket,
      key,
      partSizeBytes: this.#partSizeBytes,
      expectedSize: opts?.expectedSize,
    });
    return new VerifyingBlobWriter({ digest, expectedSize: opts?.expectedSize, signal: opts?.signal, sink });
  }

  /** Removes a blob; absent is fine. @throws InvalidDigestError, BlobStoreUnavailableError */
  async delete(digest: string): Promise<void> {
    const Key = this.key(digest);
    await s3Call('DeleteObject', undefined, () => this.#client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key })));
  }

  /** Destroys the client if this store created it. */
  async close(): Promise<void> {
    if (this.#ownsClient) this.#client.destroy();
  }
}

function requireLength(length: number | undefined, what: string): number {
  if (length === undefined) throw new BlobStoreUnavailableError(`S3 ${what} returned no Content-Length`);
  return length;
}
