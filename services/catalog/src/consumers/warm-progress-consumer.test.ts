import { randomUUID } from 'node:crypto';
import type { Delivery } from '@vreg/bus';
import { Subjects, type WarmProgress } from '@vreg/contracts';
import { createLogger } from '@vreg/logging';
import { describe, expect, it } from 'vitest';
import { MemoryJobRepository } from '../adapters/memory/memory-job-repository.ts';
import { WarmProgressConsumer } from './warm-progress-consumer.ts';

const DIGEST = `sha256:${'a'.repeat(64)}`;

async function setup() {
  const jobs = new MemoryJobRepository();
  const consumer = new WarmProgressConsumer({ jobs, logger: createLogger({ level: 'silent', name: 'test' }) });
  const job = await jobs.create({ kind: 'warm', registryId: '1', params: { image: 'library/x', tag: 'latest', platforms: 'all' } });
  const send = (patch: Partial<WarmProgress>) => {
    const data: WarmProgress = {
      eventId: randomUUID(),
      jobId: job.id,
      registryId: '1',
      state: 'running',
      objectsDone: 0,
      bytesDone: 0,
      errors: [],
      at: new Date().toISOString(),
      ...patch,
    };
    const delivery: Delivery<WarmProgress> = {
      subject: Subjects.warmProgress,
      data,
      deliveryCount: 1,
      headers: {},
      working: () => undefined,
    };
    return consumer.handle(delivery);
  };
  return { jobs, job, send, get: async () => (await jobs.get(job.id))! };
}

describe('the warm.progress consumer', () => {
  it('starts the job on the first snapshot and shows the counters', async () => {
    const s = await setup();
    const at = '2030-01-01T00:00:00.000Z';
    await s.send({ at });
    expect(await s.get()).toMatchObject({ state: 'running', startedAt: new Date(at) });
    await s.send({ objectsDone: 3, objectsTotal: 9, bytesDone: 300, bytesTotal: 900 });
    expect((await s.get()).progress).toEqual({ objectsDone: 3, objectsTotal: 9, bytesDone: 300, bytesTotal: 900 });
    expect((await s.get()).startedAt).toEqual(new Date(at));
  });

  it('never moves the counters backwards (a retried attempt counts anew) and lists each error once', async () => {
    const s = await setup();
    await s.send({ objectsDone: 5, objectsTotal: 9, bytesDone: 500, bytesTotal: 900, errors: ['blob x: upstream down'] });
    await s.send({ objectsDone: 1, objectsTotal: 9, bytesDone: 100, bytesTotal: 900, errors: ['blob x: upstream down'] });
    const job = await s.get();
    expect(job.progress.objectsDone).toBe(5);
    expect(job.errors).toEqual(['blob x: upstream down']);
  });

  it('ends the job with its result in snake_case, and ignores anything after the end', async () => {
    const s = await setup();
    await s.send({});
    await s.send({
      state: 'succeeded',
      objectsDone: 9,
      objectsTotal: 9,
      bytesDone: 900,
      bytesTotal: 900,
      result: {
        digest: DIGEST,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        platforms: ['linux/amd64'],
        manifests: 2,
        blobs: 7,
        objectsDownloaded: 9,
        objectsAlreadyCached: 0,
        bytesDownloaded: 900,
      },
    });
    const done = await s.get();
    expect(done.state).toBe('succeeded');
    expect(done.finishedAt).not.toBeNull();
    expect(done.result).toEqual({
      digest: DIGEST,
      media_type: 'application/vnd.oci.image.index.v1+json',
      platforms: ['linux/amd64'],
      manifests: 2,
      blobs: 7,
      objects_downloaded: 9,
      objects_already_cached: 0,
      bytes_downloaded: 900,
    });
    expect(await s.send({ state: 'running', objectsDone: 1 })).toBe(false);
    expect(await s.send({ state: 'failed', errors: ['late'] })).toBe(false);
    expect(await s.get()).toEqual(done);
  });

  it('fails a job with the reason, even when no running snapshot came first', async () => {
    const s = await setup();
    await s.send({ state: 'failed', errors: ['library/x:nope: manifest unknown to every upstream of this registry (MANIFEST_UNKNOWN)'] });
    const job = await s.get();
    expect(job).toMatchObject({
      state: 'failed',
      result: null,
      errors: ['library/x:nope: manifest unknown to every upstream of this registry (MANIFEST_UNKNOWN)'],
    });
    expect(job.startedAt).not.toBeNull();
    expect(job.finishedAt).not.toBeNull();
  });

  it('drops snapshots of unknown jobs and of jobs of another kind', async () => {
    const s = await setup();
    const purge = await s.jobs.create({ kind: 'purge', registryId: '1', params: {} });
    const consumer = new WarmProgressConsumer({ jobs: s.jobs, logger: createLogger({ level: 'silent', name: 'test' }) });
    for (const jobId of ['404', purge.id]) {
      const data: WarmProgress = {
        eventId: randomUUID(),
        jobId,
        registryId: '1',
        state: 'succeeded',
        objectsDone: 1,
        bytesDone: 1,
        errors: [],
        at: new Date().toISOString(),
      };
      expect(await consumer.handle({ subject: Subjects.warmProgress, data, deliveryCount: 1, headers: {}, working: () => undefined })).toBe(
        false,
      );
    }
    expect((await s.jobs.get(purge.id))!.state).toBe('queued');
  });

  it('does not undo a failure another replica wrote between its read and its write', async () => {
    const s = await setup();
    await s.send({ objectsDone: 1 });
    // Another replica's watchdog fails the job right after this consumer read it.
    const conditional = s.jobs.updateIfUnchanged.bind(s.jobs);
    s.jobs.updateIfUnchanged = async (id, seen, patch) => {
      await s.jobs.update(id, { state: 'failed', appendErrors: ['abandoned'], finishedAt: new Date() });
      s.jobs.updateIfUnchanged = conditional;
      return conditional(id, seen, patch);
    };
    await new Promise((r) => setTimeout(r, 2));
    expect(await s.send({ objectsDone: 5 })).toBe(false);
    expect(await s.get()).toMatchObject({ state: 'failed', errors: ['abandoned'], progress: { objectsDone: 1 } });
  });
});
