import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AdminApiHarness, startAdminApiHarness } from './testing/admin-api-harness.ts';

let api: AdminApiHarness;
beforeEach(async () => {
  api = await startAdminApiHarness();
});
afterEach(async () => {
  await api.close();
});

describe('admin API: jobs', () => {
  it('shows a job with snake_case fields and ISO times', async () => {
    const job = await api.store.jobs.create({ kind: 'purge', registryId: '4', params: { registry_id: '4' } });
    await api.store.jobs.update(job.id, {
      state: 'running',
      startedAt: new Date('2030-01-01T00:00:00.000Z'),
      progress: { objectsTotal: 3, objectsDone: 1 },
      appendErrors: ['one failed'],
    });
    const res = await api.call('GET', `/jobs/${job.id}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      id: job.id,
      kind: 'purge',
      state: 'running',
      registry_id: '4',
      params: { registry_id: '4' },
      progress: { objects_done: 1, objects_total: 3, bytes_done: 0, bytes_total: null },
      result: null,
      errors: ['one failed'],
      created_at: job.createdAt.toISOString(),
      started_at: '2030-01-01T00:00:00.000Z',
      finished_at: null,
    });
  });

  it('answers 404 NOT_FOUND for an unknown job', async () => {
    const res = await api.call('GET', '/jobs/77');
    expect(res.statusCode).toBe(404);
    expect(res.json().errors[0].code).toBe('NOT_FOUND');
  });

  it('lists jobs newest first, filtered by kind and registry, with pagination headers', async () => {
    for (let i = 0; i < 3; i += 1) await api.store.jobs.create({ kind: 'purge', registryId: '1', params: {} });
    await api.store.jobs.create({ kind: 'gc', registryId: null, params: { dry_run: true } });
    await api.store.jobs.create({ kind: 'purge', registryId: '2', params: {} });
    const all = await api.call('GET', '/jobs');
    expect(all.json().map((j: { id: string }) => j.id)).toEqual(['5', '4', '3', '2', '1']);
    const res = await api.call('GET', '/jobs?kind=purge&registry_id=1&page=1&per_page=2');
    expect(res.json().map((j: { id: string }) => j.id)).toEqual(['3', '2']);
    expect(res.headers).toMatchObject({ 'x-total': '3', 'x-total-pages': '2', 'x-next-page': '2' });
  });

  it('rejects an unknown kind with VALIDATION_FAILED', async () => {
    const res = await api.call('GET', '/jobs?kind=nuke');
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0].code).toBe('VALIDATION_FAILED');
  });

  it('appears in the OpenAPI document', async () => {
    const doc = (await api.server.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json();
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/jobs', '/api/v1/jobs/{id}']));
  });
});
