import { randomBytes } from 'node:crypto';
import type { RegistryView } from '@vreg/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { gatewayHarness } from '../testing/gateway-harness.ts';

const UP = 'http://upstream.test';
const registries: RegistryView[] = [
  { id: '1', name: 'capped', upstreams: [{ id: '10', name: 'hub', url: UP, position: 0, cacheValidityHours: 24, maxBlobSizeBytes: 1024 }] },
  { id: '2', name: 'default', upstreams: [{ id: '20', name: 'hub', url: UP, position: 0, cacheValidityHours: 24 }] },
];

describe('blob size limit on the pull API', () => {
  let h: Awaited<ReturnType<typeof gatewayHarness>>;
  afterEach(async () => h?.close());

  it("answers 403 DENIED naming the limit for a blob past the upstream's max_blob_size_bytes, and stores nothing", async () => {
    h = await gatewayHarness(registries, { VREG_UPSTREAM_MAX_BLOB_BYTES: '4096' });
    const digest = h.upstream.addBlob(UP, 'library/big', randomBytes(2048));
    const capped = await h.server.inject({ method: 'GET', url: `/v2/virtual_registries/containers/1/library/big/blobs/${digest}` });
    expect(capped.statusCode).toBe(403);
    expect(capped.json().errors[0]).toMatchObject({ code: 'DENIED', message: expect.stringContaining('limit of 1024 bytes') });
    expect(await h.store.stat(digest)).toBeUndefined();
    // Registry 2's upstream has no limit of its own: VREG_UPSTREAM_MAX_BLOB_BYTES (4096) lets 2048 bytes through.
    const roomy = await h.server.inject({ method: 'GET', url: `/v2/virtual_registries/containers/2/library/big/blobs/${digest}` });
    expect(roomy.statusCode).toBe(200);
    expect(roomy.rawPayload.length).toBe(2048);
  });
});
