import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { MemoryBlobStore } from '@vreg/blob-store';
import type { RegistryView } from '@vreg/contracts';
import type { UpstreamRegistry, UpstreamResponse } from '@vreg/upstream-client';
import { describe, expect, it } from 'vitest';
import { startBlobFill } from './blob-fill.ts';
import type { FillDeps } from './fill-deps.ts';
import { testFillDeps } from './testing/test-fill-deps.ts';

const BLOB = randomBytes(10_000);
const DIGEST = `sha256:${createHash('sha256').update(BLOB).digest('hex')}`;

/** An upstream that has one blob and may leave out its Content-Length (chunked). */
function upstreamServing(withLength: boolean): UpstreamRegistry & { bodies: Readable[] } {
  const bodies: Readable[] = [];
  return {
    bodies,
    async getBlob(): Promise<UpstreamResponse> {
      const body = Readable.from([BLOB.subarray(0, 4000), BLOB.subarray(4000)]);
      bodies.push(body);
      return {
        status: 200,
        body,
        contentType: 'application/octet-stream',
        headers: {},
        ...(withLength ? { contentLength: BLOB.length } : {}),
      };
    },
  } as unknown as UpstreamRegistry & { bodies: Readable[] };
}

/** With `maxBlobBytes` when given; otherwise the fill's own default applies. */
function deps(upstreams: UpstreamRegistry, maxBlobBytes?: number): Promise<FillDeps & { store: MemoryBlobStore }> {
  return testFillDeps(upstreams, maxBlobBytes === undefined ? {} : { maxBlobBytes });
}

const registry = (maxBlobSizeBytes?: number): RegistryView => ({
  id: '1',
  name: 'r',
  upstreams: [
    {
      id: '10',
      name: 'hub',
      url: 'https://hub.example',
      position: 0,
      cacheValidityHours: 24,
      ...(maxBlobSizeBytes === undefined ? {} : { maxBlobSizeBytes }),
    },
  ],
});

describe('blob size limits', () => {
  it("refuses a blob whose Content-Length passes the upstream's limit before storing a byte", async () => {
    const d = await deps(upstreamServing(true));
    await expect(startBlobFill(d, registry(9_999), 'library/x', DIGEST)).rejects.toMatchObject({
      code: 'BLOB_TOO_LARGE',
      message: expect.stringContaining('limit of 9999 bytes'),
      detail: { limitBytes: 9_999, sizeBytes: 10_000, upstreamId: '10' },
    });
    expect(d.store.digests()).toEqual([]);
  });

  it('stops a blob without Content-Length once the bytes seen pass the limit, and stores nothing', async () => {
    const d = await deps(upstreamServing(false));
    const fill = await startBlobFill(d, registry(5_000), 'library/x', DIGEST);
    await expect(fill.done).rejects.toMatchObject({ code: 'BLOB_TOO_LARGE' });
    expect(d.store.digests()).toEqual([]);
  });

  it("applies the global default when the upstream sets no limit, and the upstream's own limit over it", async () => {
    await expect(startBlobFill(await deps(upstreamServing(true), 1_000), registry(), 'library/x', DIGEST)).rejects.toMatchObject({
      code: 'BLOB_TOO_LARGE',
    });
    const roomy = await deps(upstreamServing(true), 1_000);
    const fill = await startBlobFill(roomy, registry(20_000), 'library/x', DIGEST);
    expect((await fill.done).size).toBe(10_000);
    expect(roomy.store.digests()).toEqual([DIGEST]);
  });

  it('has no limit at 0', async () => {
    const d = await deps(upstreamServing(false), 0);
    expect((await (await startBlobFill(d, registry(), 'library/x', DIGEST)).done).size).toBe(10_000);
  });
});
