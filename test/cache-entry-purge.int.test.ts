import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDistributedUnderTest } from './support/distributed-under-test.ts';
import { startEmbeddedUnderTest } from './support/embedded-under-test.ts';
import type { VregUnderTest } from './support/pull-scenarios.ts';
import { hostOf, skopeoPull } from './support/skopeo.ts';
import { testEnv } from './support/test-env.ts';
import { waitFor } from './support/wait.ts';

/**
 * `DELETE /api/v1/cache_entries/:id` in both modes: an entry id is the
 * upstream id and the entry's path in base64url, longer than fastify's
 * default route parameter limit (100) for every blob entry, so the server
 * carrying the admin API must take ids up to the route's own limit.
 */
const env = testEnv();
type Job = { id: string; state: string; result: Record<string, unknown> | null };
type Entry = { id: string; relative_path: string };

function describeEntryPurge(mode: string, start: () => Promise<VregUnderTest>): void {
  describe(`purging one cache entry by its id (${mode})`, () => {
    let vreg: VregUnderTest;
    let upstreamId: string;

    beforeAll(async () => {
      vreg = await start();
      const registryId = (await vreg.admin.createRegistry(`entry-purge-${mode}`)).id;
      upstreamId = (await vreg.admin.addUpstream(registryId, { name: 'a', url: env.upstreamA })).id;
      await skopeoPull(env.skopeo, `${hostOf(vreg.gatewayUrl)}/virtual_registries/containers/${registryId}/library/busybox:latest`);
    }, 180_000);

    afterAll(async () => {
      await vreg?.stop();
    });

    it('marks a blob entry named by its id (longer than 100 characters)', async () => {
      const entries = await waitFor(
        'the pull recorded',
        async () => {
          const list = (await vreg.admin.cacheEntries(upstreamId)) as Entry[];
          return list.length >= 4 ? list : undefined;
        },
        60_000,
        200,
      );
      const blob = entries.find((e) => e.relative_path.includes('/blobs/')) as Entry;
      expect(blob.id.length).toBeGreaterThan(100);
      const res = await vreg.admin.call<Job>('DELETE', `/cache_entries/${blob.id}`);
      expect(res.status).toBe(202);
      const job = await waitFor(
        `job ${res.body.id}`,
        async () => {
          const j = (await vreg.admin.call<Job>('GET', `/jobs/${res.body.id}`)).body;
          return j.state === 'succeeded' || j.state === 'failed' ? j : undefined;
        },
        30_000,
        100,
      );
      expect(job).toMatchObject({ state: 'succeeded', result: { entries_marked: 1 } });
    });

    it('answers 404 NOT_FOUND, not 414, for the id of an entry with a long image name that is not cached', async () => {
      const id = `${upstreamId}-${Buffer.from(`library/${'x'.repeat(250)}/manifests/latest`).toString('base64url')}`;
      const res = await vreg.admin.call<{ errors: Array<{ code: string }> }>('DELETE', `/cache_entries/${id}`);
      expect(res.status).toBe(404);
      expect(res.body.errors[0]?.code).toBe('NOT_FOUND');
    });
  });
}

describeEntryPurge('distributed', () => startDistributedUnderTest());
describeEntryPurge('embedded', () => startEmbeddedUnderTest());
