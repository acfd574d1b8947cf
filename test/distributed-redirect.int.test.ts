import { afterAll, describe, expect, it } from 'vitest';
import { startDistributedUnderTest } from './support/distributed-under-test.ts';
import { sha256 } from './support/http-get.ts';
import { hostOf, readPulledDir, skopeoPull } from './support/skopeo.ts';
import { testEnv } from './support/test-env.ts';
import { waitFor } from './support/wait.ts';

/**
 * Blob hits redirected to presigned S3 URLs: the gateway answers 307 and the
 * bytes come from the store, bypassing the gateway; real clients follow.
 */
describe('presigned redirects for blob hits (distributed mode)', () => {
  const env = testEnv();
  let vreg: Awaited<ReturnType<typeof startDistributedUnderTest>> | undefined;
  afterAll(async () => vreg?.stop());

  it('sends blob hits to the store with a 307 that real clients follow, byte-identical', async () => {
    vreg = await startDistributedUnderTest({ gateway: { VREG_BLOB_REDIRECT_TTL_SECONDS: '300' } });
    const id = (await vreg.admin.createRegistry('redirects')).id;
    const up = await vreg.admin.addUpstream(id, { name: 'upstream-a', url: env.upstreamA });
    const ref = `${hostOf(vreg.gatewayUrl)}/virtual_registries/containers/${id}/library/busybox:latest`;
    const direct = await readPulledDir(await skopeoPull(env.skopeo, `${hostOf(env.upstreamA)}/library/busybox:latest`));
    await skopeoPull(env.skopeo, ref);
    const blobs = [...direct.keys()].filter((f) => f !== 'manifest.json').map((f) => `sha256:${f.replace(/^sha256-/, '')}`);
    await waitFor('the blobs to be recorded', async () => {
      const paths = new Set((await vreg!.admin.cacheEntries(up.id)).map((e) => String(e.relative_path)));
      return blobs.every((d) => paths.has(`library/busybox/blobs/${d}`)) ? true : undefined;
    });
    for (const digest of blobs) {
      const res = await fetch(`${vreg.gatewayUrl}/v2/virtual_registries/containers/${id}/library/busybox/blobs/${digest}`, {
        redirect: 'manual',
      });
      expect(res.status).toBe(307);
      expect(res.headers.get('docker-content-digest')).toBe(digest);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox");
      const location = res.headers.get('location')!;
      expect(location.startsWith(env.s3.endpoint)).toBe(true);
      expect(sha256(Buffer.from(await (await fetch(location)).arrayBuffer()))).toBe(digest);
    }
    const again = await readPulledDir(await skopeoPull(env.skopeo, ref));
    for (const [file, bytes] of direct) expect(sha256(again.get(file)!), file).toBe(sha256(bytes));
  });
});
