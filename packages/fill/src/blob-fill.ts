import type { Readable, Writable } from 'node:stream';
import type { BlobWriter } from '@vreg/blob-store';
import {
  AppError,
  BlobTooLargeError,
  BlobUnknownError,
  type CacheEntryView,
  ErrorCodes,
  type RegistryView,
  relativePathOf,
  UpstreamBusyError,
  type UpstreamView,
} from '@vreg/contracts';
import type { UpstreamResponse } from '@vreg/upstream-client';
import { drained } from './drained.ts';
import type { FillDeps } from './fill-deps.ts';
import { BUSY_RETRY_AFTER_SECONDS, type FillSlot, type FillSlots } from './fill-slots.ts';
import { Spool } from './spool.ts';
import { SpoolFile } from './spool-file.ts';
import { publishStored } from './stored-publisher.ts';
import { firstUpstreamWith } from './upstream-chain.ts';
import { toUpstreamTarget } from './upstream-target.ts';
import { upstreamBuffers } from './young-garbage.ts';

/** A blob download from an upstream that is under way. */
export interface BlobFill {
  upstream: UpstreamView;
  /** From the upstream's Content-Length, when it sent one. */
  size: number | undefined;
  contentType: string;
  /** Resolves with the cache entry once the bytes are verified, committed and announced. */
  done: Promise<CacheEntryView>;
}

/** A blob fill that clients read as it arrives. */
export interface SpooledBlobFill extends BlobFill {
  /**
   * The bytes for clients, each at its own pace: the fill writes at upstream
   * speed and no client can stall it. The caller holds the first reference
   * and releases it once `done` settled.
   */
  spool: Spool;
}

export interface BlobFillOptions {
  /** The fill's own deadline: it outlives the client that started it. */
  signal?: AbortSignal;
  /**
   * Bounds the fills running at once per upstream: a slot is taken before an
   * upstream is asked and held until the fill ends; an upstream with none
   * free is skipped, and when no upstream served the blob for that reason,
   * UPSTREAM_BUSY. Without it, no bound (warm-ups, bounded by their own settings).
   */
  slots?: FillSlots;
  /** Told the size of each chunk as it arrives (a warm's progress); must be cheap, never throw. */
  onBytes?: (bytes: number) => void;
}

export interface SpooledBlobFillOptions extends BlobFillOptions {
  /** Where the spool file goes when the store keeps no local copy of its own (S3): the one local copy slow readers read back. */
  spoolDir: string;
  /**
   * Clients get their last bytes only once this settled too (it must never
   * reject): the gateway passes its fetch request's publish, so a client
   * that got the whole blob can count on the object ending up stored.
   */
  endAfter?: Promise<void>;
}

/**
 * Starts downloading `digest` from the first upstream that has it into the
 * blob store, which verifies it against the digest before it becomes
 * visible. Resolves as soon as an upstream answered; the copy goes on in the
 * background and `done` tells how.
 */
export async function startBlobFill(
  deps: FillDeps,
  registry: RegistryView,
  image: string,
  digest: string,
  options: BlobFillOptions = {},
): Promise<BlobFill> {
  const { fill } = await begin(deps, registry, image, digest, options, undefined);
  return fill;
}

/**
 * Like `startBlobFill`, teeing the bytes to a spool that clients read as
 * they arrive. Every byte is written to local disk once: into the store's
 * own temp file when it has one (the file-system store), else (S3) into a
 * spool file beside the upload.
 */
export async function startSpooledBlobFill(
  deps: FillDeps,
  registry: RegistryView,
  image: string,
  digest: string,
  options: SpooledBlobFillOptions,
): Promise<SpooledBlobFill> {
  const { fill, spool } = await begin(deps, registry, image, digest, options, options);
  return { ...fill, spool: spool as Spool };
}

async function begin(
  deps: FillDeps,
  registry: RegistryView,
  image: string,
  digest: string,
  options: BlobFillOptions,
  spooled: SpooledBlobFillOptions | undefined,
): Promise<{ fill: BlobFill; spool: Spool | undefined }> {
  // The slot of the upstream that answers is held until the fill ends; the others' are given back at once.
  let slot: FillSlot | undefined;
  const { upstream, value: res } = await firstUpstreamWith<UpstreamResponse>(
    registry.upstreams,
    async (u) => {
      const taken = options.slots?.tryAcquire(u.id);
      if (options.slots && !taken) throw busy(u);
      try {
        const answer = await deps.upstreams.getBlob(
          toUpstreamTarget(u, deps.secrets),
          image,
          digest,
          options.signal ? { signal: options.signal } : {},
        );
        if (answer === undefined) taken?.release();
        else slot = taken;
        return answer;
      } catch (err) {
        taken?.release();
        throw err;
      }
    },
    () => new BlobUnknownError('blob unknown to every upstream of this registry', { digest }),
    (u, err) => {
      const code = (err as { code?: string }).code;
      // A full upstream is expected under load (and under a flood): not worth a warning per request.
      const level = code === ErrorCodes.upstreamBusy ? 'debug' : 'warn';
      deps.logger[level]({ upstreamId: u.id, code, err: (err as Error).message }, 'upstream blob fetch failed');
    },
  );
  try {
    return await startCopy(deps, registry, image, digest, options, spooled, upstream, res, slot);
  } catch (err) {
    slot?.release();
    throw err;
  }
}

/** Past the upstream's answer: checks its size, opens the store (and spool) and starts the copy, whose end gives the slot back. */
async function startCopy(
  deps: FillDeps,
  registry: RegistryView,
  image: string,
  digest: string,
  options: BlobFillOptions,
  spooled: SpooledBlobFillOptions | undefined,
  upstream: UpstreamView,
  res: UpstreamResponse,
  slot: FillSlot | undefined,
): Promise<{ fill: BlobFill; spool: Spool | undefined }> {
  const size = res.contentLength;
  const contentType = res.contentType ?? 'application/octet-stream';
  const limit = upstream.maxBlobSizeBytes ?? (deps.maxBlobBytes || undefined);
  if (limit !== undefined && size !== undefined && size > limit) {
    res.body.destroy();
    throw tooLarge(upstream, digest, limit, size);
  }
  let writer: BlobWriter | undefined;
  let spool: Spool | undefined;
  let spoolFile: SpoolFile | undefined;
  try {
    // The fill's deadline covers the store too: a hung upload fails the fill rather than holding its lease for ever.
    writer = await deps.store.beginWrite(digest, {
      ...(size === undefined ? {} : { expectedSize: size }),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (spooled) {
      if (writer.openWrittenBytes) spool = new Spool(await writer.openWrittenBytes());
      else spool = new Spool((spoolFile = await SpoolFile.create(spooled.spoolDir)));
    }
  } catch (err) {
    res.body.destroy();
    await writer?.abort(err);
    throw err;
  }
  const done = pump({
    body: res.body,
    digest,
    size,
    writer,
    spool,
    spoolFile,
    limit: limit === undefined ? undefined : { bytes: limit, error: () => tooLarge(upstream, digest, limit) },
    onBytes: options.onBytes,
    endAfter: spooled?.endAfter,
    signal: options.signal,
  }).then(async (bytes): Promise<CacheEntryView> => {
    const entry: CacheEntryView = {
      upstreamId: upstream.id,
      relativePath: relativePathOf({ kind: 'blob', image, reference: digest }),
      digest,
      contentType,
      size: bytes,
      upstreamCheckedAt: new Date().toISOString(),
      ...(res.etag ? { upstreamEtag: res.etag } : {}),
    };
    await publishStored(deps.bus, registry.id, [entry], new Date());
    return entry;
  });
  // However the copy ends, its upstream has room for another fill.
  done.then(
    () => slot?.release(),
    () => slot?.release(),
  );
  return { fill: { upstream, size, contentType, done }, spool };
}

interface Pumped {
  body: Readable;
  digest: string;
  size: number | undefined;
  writer: BlobWriter;
  /** Where clients read, if any. */
  spool: Spool | undefined;
  /** The spool's own file, when the store's writer has no local file the spool can read. */
  spoolFile: SpoolFile | undefined;
  limit: { bytes: number; error: () => AppError } | undefined;
  onBytes: ((bytes: number) => void) | undefined;
  endAfter: Promise<void> | undefined;
  /** The fill's deadline: a wait for the disk ends with it too. */
  signal: AbortSignal | undefined;
}

/**
 * Copies the upstream body to the store writer, which hashes it once, and
 * to the spool: clients have each chunk from memory as soon as it arrived,
 * and from the local file once it is written there. The store is never left
 * with a partial or wrong object: any failure aborts the writer and fails
 * the spool's readers, whose last bytes are released only once the digest
 * is verified.
 */
async function pump(p: Pumped): Promise<number> {
  const { body, digest, size, writer, spool, spoolFile } = p;
  // The file the spool reads: a chunk is in it once that stream called back for it.
  const local = spool ? (spoolFile?.stream ?? writer.stream) : undefined;
  let bytes = 0;
  try {
    for await (const chunk of body) {
      const buf = chunk as Buffer;
      bytes += buf.length;
      if (size !== undefined && bytes > size) throw mismatch('upstream sent more bytes than its Content-Length', digest);
      // Without a Content-Length the limit is enforced on the bytes seen.
      if (p.limit !== undefined && bytes > p.limit.bytes) throw p.limit.error();
      spool?.push(buf);
      const end = bytes;
      const persisted = (err?: Error | null): void => {
        if (!err) spool?.persisted(end);
      };
      const stored = writer.stream.write(buf, local === writer.stream ? persisted : undefined);
      const spooled = spoolFile ? spoolFile.stream.write(buf, persisted) : true;
      // Both queue up to their high-water mark, so disk writes overlap the next upstream reads.
      if (!stored || !spooled) await Promise.all([drained(writer.stream, p.signal), spoolFile && drained(spoolFile.stream, p.signal)]);
      p.onBytes?.(buf.length);
      upstreamBuffers.add(buf.length);
    }
    if (size !== undefined && bytes !== size) throw mismatch('upstream sent fewer bytes than its Content-Length', digest);
    await Promise.all([ended(writer.stream), spoolFile ? ended(spoolFile.stream) : undefined]);
    // Verifies size and digest (a mismatch throws BLOB_DIGEST_MISMATCH and nothing becomes
    // visible); clients get their last bytes as soon as the digest matched, not after the fsync.
    await writer.commit({
      onVerified: () => {
        if (!spool) return;
        const release = (): void => spool.verified();
        if (p.endAfter) void p.endAfter.then(release, release);
        else release();
      },
    });
    return bytes;
  } catch (err) {
    body.destroy();
    spool?.failed(err as Error);
    spoolFile?.stream.destroy();
    await writer.abort(err);
    throw err;
  }
}

/** Ends `stream` and resolves once every write in it is done; rejects with its error. */
function ended(stream: Writable): Promise<void> {
  return new Promise((resolve, reject) => stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
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

function busy(upstream: UpstreamView): UpstreamBusyError {
  return new UpstreamBusyError(
    `upstream ${upstream.name} already runs as many blob downloads as this process allows (VREG_UPSTREAM_MAX_CONCURRENT_FILLS): retry later`,
    BUSY_RETRY_AFTER_SECONDS,
    { upstreamId: upstream.id },
  );
}
