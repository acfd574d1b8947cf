import { once } from 'node:events';
import type { Readable } from 'node:stream';
import type { BlobWriter } from '@vreg/blob-store';
import {
  AppError,
  BlobTooLargeError,
  BlobUnknownError,
  type CacheEntryView,
  ErrorCodes,
  type RegistryView,
  relativePathOf,
  type UpstreamView,
} from '@vreg/contracts';
import { DigestHasher } from '@vreg/oci';
import type { UpstreamResponse } from '@vreg/upstream-client';
import type { FillDeps } from './fill-deps.ts';
import type { Spool } from './spool.ts';
import { publishStored } from './stored-publisher.ts';
import { firstUpstreamWith } from './upstream-chain.ts';
import { toUpstreamTarget } from './upstream-target.ts';

/** A blob download from an upstream that is under way. */
export interface BlobFill {
  upstream: UpstreamView;
  /** From the upstream's Content-Length, when it sent one. */
  size: number | undefined;
  contentType: string;
  /** Resolves with the cache entry once the bytes are verified and (in store mode) committed and announced. */
  done: Promise<CacheEntryView>;
}

export interface BlobFillOptions {
  /** Store the bytes (the fill lease holder) or only verify them. */
  store: boolean;
  /**
   * Where clients read the bytes as they arrive, each at its own pace: the
   * fill writes at upstream speed and no client can stall it.
   */
  spool?: Spool;
  /** The fill's own deadline: it outlives the client that started it. */
  signal?: AbortSignal;
  /** Told the size of each chunk as it arrives (a warm's progress); must be cheap, never throw. */
  onBytes?: (bytes: number) => void;
}

/**
 * Starts downloading `digest` from the first upstream that has it, teeing
 * the bytes to the blob store, the digest check and (optionally) a spool
 * that clients read. Resolves as soon as an upstream answered, so responses
 * can start; the copy goes on in the background and `done` tells how.
 */
export async function startBlobFill(
  deps: FillDeps,
  registry: RegistryView,
  image: string,
  digest: string,
  options: BlobFillOptions,
): Promise<BlobFill> {
  const { upstream, value: res } = await firstUpstreamWith<UpstreamResponse>(
    registry.upstreams,
    (u) => deps.upstreams.getBlob(toUpstreamTarget(u, deps.secrets), image, digest, options.signal ? { signal: options.signal } : {}),
    () => new BlobUnknownError('blob unknown to every upstream of this registry', { digest }),
    (u, err) =>
      deps.logger.warn(
        { upstreamId: u.id, code: (err as { code?: string }).code, err: (err as Error).message },
        'upstream blob fetch failed',
      ),
  );
  const size = res.contentLength;
  const contentType = res.contentType ?? 'application/octet-stream';
  const limit = upstream.maxBlobSizeBytes ?? (deps.maxBlobBytes || undefined);
  if (limit !== undefined && size !== undefined && size > limit) {
    res.body.destroy();
    throw tooLarge(upstream, digest, limit, size);
  }
  let writer: BlobWriter | undefined;
  try {
    writer = options.store ? await deps.store.beginWrite(digest, size === undefined ? {} : { expectedSize: size }) : undefined;
  } catch (err) {
    res.body.destroy();
    throw err;
  }
  const done = pump(
    res.body,
    digest,
    size,
    writer,
    options.spool,
    limit === undefined ? undefined : { bytes: limit, error: () => tooLarge(upstream, digest, limit) },
    options.onBytes,
  ).then(async (bytes): Promise<CacheEntryView> => {
    const entry: CacheEntryView = {
      upstreamId: upstream.id,
      relativePath: relativePathOf({ kind: 'blob', image, reference: digest }),
      digest,
      contentType,
      size: bytes,
      upstreamCheckedAt: new Date().toISOString(),
      ...(res.etag ? { upstreamEtag: res.etag } : {}),
    };
    if (writer) await publishStored(deps.bus, registry.id, [entry], new Date());
    return entry;
  });
  return { upstream, size, contentType, done };
}

/**
 * Copies the upstream body to the store writer and the spool, hashing as it
 * goes (once: the store writer verifies the digest when there is one, else
 * our own hasher does). The store write and the spool write of a chunk run
 * together. The store is never left with a partial or wrong object: any
 * failure aborts the writer and fails the spool's readers, whose last bytes
 * are released only once the digest is verified.
 */
async function pump(
  body: Readable,
  digest: string,
  size: number | undefined,
  writer: BlobWriter | undefined,
  spool: Spool | undefined,
  limit: { bytes: number; error: () => AppError } | undefined,
  onBytes: ((bytes: number) => void) | undefined,
): Promise<number> {
  const hasher = writer ? undefined : new DigestHasher(digest);
  let bytes = 0;
  try {
    for await (const chunk of body) {
      const buf = chunk as Buffer;
      bytes += buf.length;
      hasher?.update(buf);
      if (size !== undefined && bytes > size) throw mismatch('upstream sent more bytes than its Content-Length', digest);
      // Without a Content-Length the limit is enforced on the bytes seen.
      if (limit !== undefined && bytes > limit.bytes) throw limit.error();
      const stored = writer && !writer.stream.write(buf) ? once(writer.stream, 'drain') : undefined;
      const spooled = spool?.append(buf);
      await Promise.all([stored, spooled]);
      onBytes?.(buf.length);
    }
    if (size !== undefined && bytes !== size) throw mismatch('upstream sent fewer bytes than its Content-Length', digest);
    if (hasher) {
      const actual = hasher.actual();
      if (actual !== digest) throw mismatch('upstream bytes do not match the digest', digest, actual);
    }
    if (writer) {
      await new Promise<void>((resolve, reject) => writer.stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
      // Verifies size and digest (a mismatch throws BLOB_DIGEST_MISMATCH and nothing becomes
      // visible); clients get their last bytes as soon as the digest matched, not after the fsync.
      await writer.commit({ onVerified: () => spool?.verified() });
    } else {
      spool?.verified();
    }
    return bytes;
  } catch (err) {
    body.destroy();
    spool?.failed(err as Error);
    if (writer) await writer.abort(err);
    throw err;
  }
}

function tooLarge(upstream: UpstreamView, digest: string, limitBytes: number, sizeBytes?: number): BlobTooLargeError {
  const what = sizeBytes === undefined ? `more than ${limitBytes} bytes` : `${sizeBytes} bytes`;
  return new BlobTooLargeError(`blob of ${what} is larger than upstream ${upstream.name}'s limit of ${limitBytes} bytes`, {
    digest,
    upstreamId: upstream.id,
    limitBytes,
    ...(sizeBytes === undefined ? {} : { sizeBytes }),
  });
}

function mismatch(message: string, expected: string, actual?: string): AppError {
  return new AppError(ErrorCodes.blobDigestMismatch, message, { detail: { expected, ...(actual ? { actual } : {}) } });
}
