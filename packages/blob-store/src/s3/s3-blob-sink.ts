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
  /** Bytes per multipart part; also the memory one write holds at most. */
  partSizeBytes: number;
  /** Expected object size, to size the buffer of a small object exactly. */
  expectedSize?: number | undefined;
}

/**
 * The S3 end of one blob write, holding at most one part in memory.
 *
 * An object that fits in one part is buffered and PUT at commit, after the
 * digest matched. A bigger one becomes a multipart upload on the final key:
 * each full part is uploaded before more bytes are taken (the stream's
 * backpressure), and CompleteMultipartUpload, which is what makes it
 * visible, runs only in commit. Parts of an aborted upload never show.
 */
export class S3BlobSink implements BlobSink {
  readonly #opts: S3BlobSinkOptions;
  #buffer: Buffer | undefined;
  #length = 0;
  #uploadId: string | undefined;
  #parts: CompletedPart[] = [];

  constructor(opts: S3BlobSinkOptions) {
    this.#opts = opts;
  }

  /** Buffers a chunk, uploading each part as it fills. @throws BlobStoreUnavailableError */
  async write(chunk: Buffer, signal: AbortSignal): Promise<void> {
    let offset = 0;
    while (offset < chunk.length) {
      // Flush lazily, only once more bytes arrive: an object of exactly one
      // part then still takes the single-PUT path.
      if (this.#length === this.#opts.partSizeBytes) await this.#uploadPart(signal);
      offset += this.#append(chunk, offset);
    }
  }

  /** PUTs a single-part object, or uploads the last part and completes the upload. */
  async commit(_size: number, signal: AbortSignal): Promise<void> {
    const { client, bucket, key } = this.#opts;
    if (this.#uploadId === undefined) {
      const body = this.#buffer?.subarray(0, this.#length) ?? Buffer.alloc(0);
      await s3Call('PutObject', signal, () =>
        client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: body.length, ContentType: CONTENT_TYPE }), {
          abortSignal: signal,
        }),
      );
      this.#release();
      return;
    }
    if (this.#length > 0) await this.#uploadPart(signal);
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

  /** Drops the buffer and aborts the multipart upload, if one was started. */
  async abort(): Promise<void> {
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

  async #uploadPart(signal: AbortSignal): Promise<void> {
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
    // The SDK is done with the body once send() settles, so the buffer is
    // reused for the next part: memory stays at one part.
    const body = (this.#buffer as Buffer).subarray(0, this.#length);
    const uploaded = await s3Call(`UploadPart ${partNumber}`, signal, () =>
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
    );
    this.#parts.push({ ETag: uploaded.ETag, PartNumber: partNumber });
    this.#length = 0;
  }

  #release(): void {
    this.#buffer = undefined;
    this.#length = 0;
  }
}
