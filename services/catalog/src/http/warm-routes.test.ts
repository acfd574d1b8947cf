import { MemoryEventBus } from '@vreg/bus';
import { Streams, Subjects, type WarmRequested, WarmRequestedSchema } from '@vreg/contracts';
import { createLogger } from '@vreg/logging';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BusWarmDispatcher } from '../adapters/bus/bus-warm-dispatcher.ts';
import { MemoryCatalogStore } from '../adapters/memory/memory-catalog-store.ts';
import { WarmJobs } from '../domain/warm-jobs.ts';
import { adminErrorHandler } from './admin-error-handler.ts';
import { jobRoutes } from './job-routes.ts';
import { warmRoutes } from './warm-routes.ts';
import { type ZodTypeProvider, zodSerializerCompiler, zodValidatorCompiler } from './zod-type-provider.ts';

let server: FastifyInstance;
let store: MemoryCatalogStore;
let bus: MemoryEventBus;
let registryId: string;
const commands: WarmRequested[] = [];

// The warm and job routes with the admin API's validator, serializer and error handler (auth is admin-auth's own test).
async function start(withStreams: boolean): Promise<void> {
  store = new MemoryCatalogStore();
  bus = new MemoryEventBus({ logger: createLogger({ level: 'silent', name: 'warm-routes-test' }) });
  if (withStreams) {
    await bus.ensureStreams([Streams.warm]);
    await bus.consume(
      { stream: Streams.warm.name, consumer: 't', subject: Subjects.warmRequested, schema: WarmRequestedSchema },
      async ({ data }) => {
        commands.push(data);
      },
    );
  }
  registryId = (await store.registries.create({ name: 'hub', visibility: 'public' })).id;
  server = Fastify({ logger: false });
  await server.register(
    async (scope) => {
      const app = scope.withTypeProvider<ZodTypeProvider>();
      app.setValidatorCompiler(zodValidatorCompiler);
      app.setSerializerCompiler(zodSerializerCompiler);
      app.setErrorHandler(adminErrorHandler);
      await app.register(warmRoutes, {
        warm: new WarmJobs({ jobs: store.jobs, registries: store.registries, dispatcher: new BusWarmDispatcher(bus) }),
      });
      await app.register(jobRoutes, { jobs: store.jobs });
    },
    { prefix: '/api/v1' },
  );
  await server.ready();
}

const post = (id: string, body: unknown) =>
  server.inject({ method: 'POST', url: `/api/v1/registries/${id}/warm`, payload: body as object });

beforeEach(() => {
  commands.length = 0;
});
afterEach(async () => {
  await server.close();
  await bus.close();
});

describe('POST /registries/:id/warm', () => {
  it('answers 202 with a queued warm job and sends the fetchers the command once', async () => {
    await start(true);
    const res = await post(registryId, { image: 'library/multiarch', tag: 'latest', platforms: ['linux/arm64/v8', 'linux/arm64/v8'] });
    expect(res.statusCode).toBe(202);
    const job = res.json();
    expect(job).toMatchObject({
      kind: 'warm',
      state: 'queued',
      registry_id: registryId,
      params: { registry_id: registryId, image: 'library/multiarch', tag: 'latest', platforms: ['linux/arm64/v8'] },
      progress: { objects_done: 0, objects_total: null, bytes_done: 0, bytes_total: null },
      errors: [],
    });
    // The command reaches the test's consumer asynchronously.
    await vi.waitFor(
      () =>
        expect(commands).toEqual([
          expect.objectContaining({ jobId: job.id, registryId, image: 'library/multiarch', tag: 'latest', platforms: ['linux/arm64/v8'] }),
        ]),
      { timeout: 10_000, interval: 5 },
    );
    expect((await server.inject({ method: 'GET', url: `/api/v1/jobs/${job.id}` })).json().kind).toBe('warm');
  });

  it('warms every platform when platforms is left out', async () => {
    await start(true);
    const res = await post(registryId, { image: 'team/app/api', tag: '1.0' });
    expect(res.statusCode).toBe(202);
    expect(res.json().params.platforms).toBe('all');
  });

  it('answers 400 VALIDATION_FAILED for a bad body, and starts no job', async () => {
    await start(true);
    for (const body of [
      {},
      { tag: 'latest', platforms: 'all' },
      { image: 'Library/UPPER', tag: 'latest', platforms: 'all' },
      { image: 'library/alpine', tag: 'bad tag!', platforms: 'all' },
      { image: 'library/alpine', tag: 'latest', platforms: 'some' },
      { image: 'library/alpine', tag: 'latest', platforms: [] },
      { image: 'library/alpine', tag: 'latest', platforms: ['linux'] },
      { image: 'library/alpine', tag: 'latest', platforms: 'all', extra: 1 },
    ]) {
      const res = await post(registryId, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().errors[0].code).toBe('VALIDATION_FAILED');
    }
    expect((await store.jobs.list({}, { page: 1, perPage: 10 })).total).toBe(0);
  });

  it('answers 404 for an unknown registry', async () => {
    await start(true);
    const res = await post('999', { image: 'library/alpine', tag: 'latest', platforms: 'all' });
    expect(res.statusCode).toBe(404);
    expect(res.json().errors[0].code).toBe('NOT_FOUND');
  });

  it('answers 503 FETCHER_UNAVAILABLE and fails the job when the command cannot be queued', async () => {
    await start(false);
    const res = await post(registryId, { image: 'library/alpine', tag: 'latest', platforms: 'all' });
    expect(res.statusCode).toBe(503);
    expect(res.json().errors[0].code).toBe('FETCHER_UNAVAILABLE');
    const { items } = await store.jobs.list({ kind: 'warm' }, { page: 1, perPage: 10 });
    expect(items[0]).toMatchObject({ state: 'failed', errors: [expect.stringContaining('could not be queued')] });
    expect(items[0]!.finishedAt).not.toBeNull();
  });
});
