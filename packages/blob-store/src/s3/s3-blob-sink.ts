import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { BlobSink } from '../verifying-blob-writer.ts';
import { s3Call } from './s3-call.ts';

const INITIAL_CAPACITY = 256 * 1024;
const CONTENT_TYPE = 'application/octet-stream';

/** Where and how one S3 blob write goes. */
export interface S3BlobSinkOptions {
  /** The client to send requests with. */
  client: S3Client;
  /** Bucket name. */
  bucket: string;
  /** Final object key: nothing is visible there before commit. */
  key: string;
  /** Bytes per multipart part; one write holds two parts in memory at most. */
  partSizeBytes: number;
  /** Expected object size, to size the buffer of a small object exactly. */
  expectedSize?: number | undefined;
}

/**
 * The S3 end of one blob write, holding at most two parts in memory.
 *
 * An object that fits in one part is buffered and PUT at commit, after the
 * digest matched. A bigger one becomes a multipart upload on the final key:
 * each full part is uploaded while the next one fills, and a third part
 * waits for the first upload to finish (the stream's backpressure), so the
 * download never stalls on an upload unless S3 is the slower of the two.
 * CompleteMultipartUpload, which is what makes the object visible, runs only
 * in commit. Parts of an aborted upload never show.
 */
export class S3BlobSink implements BlobSink {
  readonly #opts: S3BlobSinkOptions;
  #buffer: Buffer | undefined;
  #length = 0;
  /** The buffer of the part being uploaded, reused for the part after next. */
  #spare: Buffer | undefined;
  #uploadId: string | undefined;
  #parts: CompletedPart[] = [];
  /** The upload of the previous part, if one runs. */
  #uploading: Promise<void> | undefined;

  constructor(opts: S3BlobSinkOptions) {
    this.#opts = opts;
  }

  /** Buffers a chunk, starting each part's upload as it fills. @throws BlobStoreUnavailableError */
  async write(chunk: Buffer, signal: AbortSignal): Promise<void> {
    let offset = 0;
    while (offset < chunk.length) {
      // Flush lazily, only once more bytes arrive: an object of exactly one
      // part then still takes the single-PUT path.
      if (this.#length === this.#opts.partSizeBytes) await this.#startPart(signal);
      offset += this.#append(chunk, offset);
    }
  }

  /** PUTs a single-part object, or uploads the last part and completes the upload. */
  async commit(_size: number, signal: AbortSignal): Promise<void> {
    const { client, bucket, key } = this.#opts;
    if (this.#uploadId === undefined && this.#uploading === undefined) {
      const body = this.#buffer?.subarray(0, this.#length) ?? Buffer.alloc(0);
      await s3Call('PutObject', signal, () =>
        client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: body.length, ContentType: CONTENT_TYPE }), {
          abortSignal: signal,
        }),
      );
      this.#release();
      return;
    }
    if (this.#length > 0) await this.#startPart(signal);
    await this.#uploading;
    const uploadId = this.#uploadId;
    await s3Call('CompleteMultipartUpload', signal, () =>
      client.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: this.#parts },
        }),
        { abortSignal: signal },
      ),
    );
    this.#uploadId = undefined;
    this.#release();
  }

  /** Drops the buffers and aborts the multipart upload, if one was started. */
  async abort(): Promise<void> {
    await this.#uploading?.catch(() => undefined);
    this.#uploading = undefined;
    this.#release();
    const uploadId = this.#uploadId;
    if (uploadId === undefined) return;
    this.#uploadId = undefined;
    const { client, bucket, key } = this.#opts;
    await s3Call('AbortMultipartUpload', undefined, () =>
      client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })),
    );
  }

  // Copies as much of chunk[offset..] as fits in the current part.
  #append(chunk: Buffer, offset: number): number {
    const take = Math.min(chunk.length - offset, this.#opts.partSizeBytes - this.#length);
    this.#ensureCapacity(this.#length + take);
    chunk.copy(this.#buffer as Buffer, this.#length, offset, offset + take);
    this.#length += take;
    return take;
  }

  // Grows the part buffer geometrically up to one part, so a small object of
  // unknown size does not cost a whole part of memory.
  #ensureCapacity(needed: number): void {
    const current = this.#buffer?.length ?? 0;
    if (current >= needed) return;
    const { partSizeBytes, expectedSize } = this.#opts;
    let capacity = Math.max(current, Math.min(expectedSize ?? INITIAL_CAPACITY, partSizeBytes), 1);
    while (capacity < needed) capacity *= 4;
    const next = Buffer.allocUnsafe(Math.min(capacity, partSizeBytes));
    this.#buffer?.copy(next, 0, 0, this.#length);
    this.#buffer = next;
  }

  /**
   * Waits for the previous part's upload (so at most two parts are held),
   * then starts uploading the current one without waiting for it, and
   * fills the buffer the previous part no longer needs.
   */
  async #startPart(signal: AbortSignal): Promise<void> {
    await this.#uploading;
    const { client, bucket, key } = this.#opts;
    if (this.#uploadId === undefined) {
      const created = await s3Call('CreateMultipartUpload', signal, () =>
        client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: CONTENT_TYPE }), {
          abortSignal: signal,
        }),
      );
      if (created.UploadId === undefined) throw new Error('S3 CreateMultipartUpload returned no UploadId');
      this.#uploadId = created.UploadId;
    }
    const uploadId = this.#uploadId;
    const partNumber = this.#parts.length + 1;
    const part: CompletedPart = { PartNumber: partNumber };
    this.#parts.push(part);
    const full = this.#buffer as Buffer;
    const body = full.subarray(0, this.#length);
    // The SDK is done with the body once send() settles; then its buffer takes the part after next.
    this.#uploading = s3Call(`UploadPart ${partNumber}`, signal, () =>
      client.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          PartNumber: partNumber,
          Body: body,
          ContentLength: body.length,
        }),
        { abortSignal: signal },
      ),
    ).then((uploaded) => {
      part.ETag = uploaded.ETag;
      this.#spare = full;
    });
    // A failure surfaces from the next write or the commit, whichever waits for it first.
    this.#uploading.catch(() => undefined);
    this.#buffer = this.#spare;
    this.#spare = undefined;
    this.#length = 0;
  }

  #release(): void {
    this.#buffer = undefined;
    this.#spare = undefined;
    this.#length = 0;
  }
}
