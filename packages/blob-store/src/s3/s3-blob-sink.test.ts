import { randomBytes } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { S3BlobSink } from './s3-blob-sink.ts';

const MIB = 1024 * 1024;

/** An S3 client that records what it is sent and answers UploadPart when the test says so. */
function fakeClient(options: { failPart?: number } = {}) {
  const parts = new Map<number, Buffer>();
  const pending: Array<() => void> = [];
  const log: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let completed: Array<{ PartNumber?: number; ETag?: string }> | undefined;
  const client = {
    async send(command: unknown) {
      if (command instanceof CreateMultipartUploadCommand) {
        log.push('create');
        return { UploadId: 'u1' };
      }
      if (command instanceof UploadPartCommand) {
        const n = command.input.PartNumber as number;
        log.push(`part ${n}`);
        parts.set(n, Buffer.from(command.input.Body as Buffer));
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise<void>((resolve) => pending.push(resolve));
        inFlight -= 1;
        if (options.failPart === n) throw Object.assign(new Error('slow down'), { name: 'SlowDown' });
        return { ETag: `"e${n}"` };
      }
      if (command instanceof CompleteMultipartUploadCommand) {
        log.push('complete');
        completed = command.input.MultipartUpload?.Parts;
        return {};
      }
      if (command instanceof AbortMultipartUploadCommand) {
        log.push('abort');
        return {};
      }
      throw new Error('unexpected command');
    },
  };
  return {
    client: client as unknown as S3Client,
    parts,
    log,
    maxInFlight: () => maxInFlight,
    completed: () => completed,
    /** Lets every UploadPart sent so far answer. */
    answer: () => {
      for (const resolve of pending.splice(0)) resolve();
    },
  };
}

const sink = (client: S3Client): S3BlobSink => new S3BlobSink({ client, bucket: 'b', key: 'k', partSizeBytes: 5 * MIB });
const signal = new AbortController().signal;
const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 10));

describe('S3BlobSink', () => {
  it('fills the next part while the previous one uploads, never holding more than two, and completes them in order', async () => {
    const s3 = fakeClient();
    const data = randomBytes(17 * MIB);
    const target = sink(s3.client);
    let written = 0;
    const writing = (async () => {
      for (let i = 0; i < data.length; i += MIB) {
        await target.write(data.subarray(i, i + MIB), signal);
        written = i + MIB;
      }
    })();
    await tick();
    // Part 1 is uploading and part 2 is full; the write that would start part 3 waits for part 1.
    expect(s3.log).toEqual(['create', 'part 1']);
    expect(written).toBe(10 * MIB);
    s3.answer();
    await tick();
    expect(s3.log).toEqual(['create', 'part 1', 'part 2']);
    expect(written).toBe(15 * MIB);
    s3.answer();
    await writing;
    const committing = target.commit(data.length, signal);
    for (let i = 0; i < 5; i++) {
      await tick();
      s3.answer();
    }
    await committing;
    expect(s3.maxInFlight()).toBe(1);
    expect(s3.completed()).toEqual([1, 2, 3, 4].map((n) => ({ PartNumber: n, ETag: `"e${n}"` })));
    expect(Buffer.concat([1, 2, 3, 4].map((n) => s3.parts.get(n) as Buffer)).equals(data)).toBe(true);
  });

  it('fails the write that waits for a failed part upload, and abort cancels the upload', async () => {
    const s3 = fakeClient({ failPart: 1 });
    const target = sink(s3.client);
    const writing = (async () => {
      for (let i = 0; i < 3; i++) await target.write(Buffer.alloc(5 * MIB, i), signal);
    })();
    await tick();
    s3.answer();
    await expect(writing).rejects.toMatchObject({ code: 'BLOB_STORE_UNAVAILABLE' });
    await target.abort();
    expect(s3.log.at(-1)).toBe('abort');
    expect(s3.log).not.toContain('complete');
  });
});
