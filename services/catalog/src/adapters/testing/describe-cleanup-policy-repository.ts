import { describe, expect, it } from 'vitest';
import { type CleanupPolicySettings, DAY_MS } from '../../domain/cleanup-policy.ts';
import type { CatalogStore } from '../../ports/catalog-store.ts';

const NOW = new Date('2030-05-01T12:00:00.000Z');

/** Cleanup-policy part of the `CatalogStore` contract. */
export function describeCleanupPolicyRepository(store: () => CatalogStore): void {
  const policies = () => store().cleanupPolicies;
  const settings = (extra: Partial<CleanupPolicySettings> = {}): CleanupPolicySettings => ({
    enabled: true,
    keepNDaysAfterDownload: 30,
    cadence: 7,
    nextRunAt: new Date(NOW.getTime() + 7 * DAY_MS),
    ...extra,
  });

  describe('cleanup policies', () => {
    it('creates a policy with no run yet, reads it back and deletes it', async () => {
      expect(await policies().get('1')).toBeUndefined();
      const created = await policies().put('1', settings());
      expect(created).toMatchObject({
        registryId: '1',
        enabled: true,
        keepNDaysAfterDownload: 30,
        cadence: 7,
        nextRunAt: new Date(NOW.getTime() + 7 * DAY_MS),
        lastRunAt: null,
        lastRunDeletedEntriesCount: 0,
        lastRunDeletedSize: 0,
        status: 'scheduled',
        failureMessage: null,
      });
      expect(await policies().get('1')).toEqual(created);
      expect(await policies().delete('1')).toBe(true);
      expect(await policies().delete('1')).toBe(false);
      expect(await policies().get('1')).toBeUndefined();
    });

    it('replaces the settings of a policy, keeping its last run and creation time', async () => {
      const created = await policies().put('2', settings());
      const ran = new Date('2030-04-01T00:00:00.000Z');
      await policies().recordRun('2', {
        status: 'scheduled',
        lastRunAt: ran,
        lastRunDeletedEntriesCount: 4,
        lastRunDeletedSize: 4096,
        failureMessage: null,
      });
      const replaced = await policies().put('2', settings({ enabled: false, keepNDaysAfterDownload: 90, cadence: 30 }));
      expect(replaced).toMatchObject({
        enabled: false,
        keepNDaysAfterDownload: 90,
        cadence: 30,
        lastRunAt: ran,
        lastRunDeletedEntriesCount: 4,
        lastRunDeletedSize: 4096,
        createdAt: created.createdAt,
      });
      expect(await policies().get('2')).toEqual(replaced);
    });

    it('records a failed run with its message', async () => {
      await policies().put('3', settings());
      const failed = await policies().recordRun('3', { status: 'failed', failureMessage: 'store unavailable' });
      expect(failed).toMatchObject({ status: 'failed', failureMessage: 'store unavailable' });
      expect(await policies().get('3')).toMatchObject({ status: 'failed', failureMessage: 'store unavailable' });
      expect(await policies().recordRun('99', { status: 'scheduled' })).toBeUndefined();
    });

    it('claims only enabled due policies, moving their next run a cadence past now', async () => {
      await policies().put('1', settings({ nextRunAt: new Date(NOW.getTime() - 1000), cadence: 1 }));
      await policies().put('2', settings({ nextRunAt: new Date(NOW.getTime() + 1000) }));
      await policies().put('3', settings({ nextRunAt: new Date(NOW.getTime() - 1000), enabled: false }));
      await policies().put('4', settings({ nextRunAt: NOW, cadence: 14 }));
      const claimed = await policies().claimDue(NOW);
      expect(claimed.map((p) => p.registryId).sort()).toEqual(['1', '4']);
      expect(await policies().get('1')).toMatchObject({ status: 'running', nextRunAt: new Date(NOW.getTime() + DAY_MS) });
      expect(await policies().get('4')).toMatchObject({ status: 'running', nextRunAt: new Date(NOW.getTime() + 14 * DAY_MS) });
      expect(await policies().claimDue(NOW)).toEqual([]);
    });

    it('hands a due policy to exactly one of two racing schedulers', async () => {
      await policies().put('5', settings({ nextRunAt: new Date(NOW.getTime() - 1) }));
      const [a, b] = await Promise.all([policies().claimDue(NOW), policies().claimDue(NOW)]);
      expect([...(a ?? []), ...(b ?? [])].map((p) => p.registryId)).toEqual(['5']);
    });

    it('stores run audit records and lists them newest first by registry', async () => {
      const run = (registryId: string, jobId: string) => ({
        registryId,
        jobId,
        startedAt: new Date('2030-01-01T00:00:00.000Z'),
        finishedAt: new Date('2030-01-01T00:00:05.000Z'),
        keepNDaysAfterDownload: 30,
        deletedEntriesCount: 2,
        deletedSize: 300,
        status: 'succeeded' as const,
      });
      const first = await policies().addRun(run('1', '10'));
      expect(first).toEqual({ id: expect.stringMatching(/^[1-9][0-9]*$/), ...run('1', '10') });
      await policies().addRun(run('2', '11'));
      const third = await policies().addRun(run('1', '12'));
      const page = await policies().listRuns('1', { page: 1, perPage: 10 });
      expect(page.total).toBe(2);
      expect(page.items.map((r) => r.id)).toEqual([third.id, first.id]);
      expect((await policies().listRuns('1', { page: 2, perPage: 1 })).items.map((r) => r.jobId)).toEqual(['10']);
      expect((await policies().listRuns('x', { page: 1, perPage: 1 })).total).toBe(0);
    });
  });
}
