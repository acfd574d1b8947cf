import { RegistryViewSchema, Subjects } from '@vreg/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RegistryResolveResponder } from '../responders/registry-resolve-responder.ts';
import { type AdminApiHarness, startAdminApiHarness } from './testing/admin-api-harness.ts';

let api: AdminApiHarness;
beforeEach(async () => {
  api = await startAdminApiHarness();
  await api.call('POST', '/registries', { name: 'containers' });
});
afterEach(async () => api.close());

describe("admin API: an upstream's max_blob_size_bytes", () => {
  it('is stored, shown, changed and removed with null, and reaches the data plane', async () => {
    const created = await api.call('POST', '/registries/1/upstreams', {
      name: 'hub',
      url: 'https://hub.example',
      max_blob_size_bytes: 1_073_741_824,
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ max_blob_size_bytes: 1_073_741_824 });
    const id = created.json<{ id: string }>().id;
    expect((await api.call('PATCH', `/upstreams/${id}`, { max_blob_size_bytes: 2048 })).json()).toMatchObject({
      max_blob_size_bytes: 2048,
    });
    await new RegistryResolveResponder({ store: api.store }).start(api.bus);
    const view = await api.bus.request(Subjects.registryResolve, { registryId: '1' }, { schema: RegistryViewSchema, timeoutMs: 2000 });
    expect(view.upstreams[0]?.maxBlobSizeBytes).toBe(2048);
    const removed = await api.call('PATCH', `/upstreams/${id}`, { max_blob_size_bytes: null });
    expect(removed.json()).not.toHaveProperty('max_blob_size_bytes');
    expect((await api.call('POST', '/registries/1/upstreams', { name: 'plain', url: 'https://plain.example' })).json()).not.toHaveProperty(
      'max_blob_size_bytes',
    );
  });

  it.each([0, -1, 1.5, '1024', Number.MAX_SAFE_INTEGER + 2])('answers 400 VALIDATION_FAILED for %s', async (value) => {
    const res = await api.call('POST', '/registries/1/upstreams', { name: 'hub', url: 'https://hub.example', max_blob_size_bytes: value });
    expect(res.statusCode).toBe(400);
    expect(res.json<{ errors: Array<{ code: string }> }>().errors[0]?.code).toBe('VALIDATION_FAILED');
  });
});
