import { afterEach, describe, expect, it, vi } from 'vitest';
import { S3BlobStore } from './s3-blob-store.ts';

// Signing is local: no S3 server is needed to presign.
const store = (): S3BlobStore =>
  new S3BlobStore({
    endpoint: 'http://127.0.0.1:9',
    region: 'us-east-1',
    bucket: 'b',
    accessKeyId: 'a',
    secretAccessKey: 's',
    forcePathStyle: true,
  });
const digest = `sha256:${'a'.repeat(64)}`;

describe('S3BlobStore.presignGet', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('hands out the same URL until half its validity is gone, then signs a new one', async () => {
    vi.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z'), toFake: ['Date'] });
    const s = store();
    const first = await s.presignGet(digest, 600);
    expect(first).toContain('X-Amz-Expires=600');
    vi.setSystemTime(new Date('2026-01-01T00:04:59Z'));
    expect(await s.presignGet(digest, 600)).toBe(first);
    vi.setSystemTime(new Date('2026-01-01T00:05:01Z'));
    const second = await s.presignGet(digest, 600);
    expect(second).not.toBe(first);
    expect(second).toContain('X-Amz-Date=20260101T000501Z');
  });

  it('signs per digest and per validity', async () => {
    const s = store();
    const other = `sha256:${'b'.repeat(64)}`;
    expect(await s.presignGet(other, 600)).not.toBe(await s.presignGet(digest, 600));
    expect(await s.presignGet(digest, 60)).toContain('X-Amz-Expires=60&');
  });
});
