import { afterEach, describe, expect, it } from 'vitest';
import { type AdminApiHarness, startAdminApiHarness } from './testing/admin-api-harness.ts';

describe('admin API SSRF guard on upstream URLs', () => {
  let api: AdminApiHarness | undefined;
  afterEach(async () => api?.close());

  async function registry(h: AdminApiHarness): Promise<string> {
    const res = await h.call('POST', '/registries', { name: `r${Math.random()}` });
    expect(res.statusCode).toBe(201);
    return res.json<{ id: string }>().id;
  }

  it.each([
    'http://127.0.0.1:5000',
    'http://localhost:5000',
    'http://169.254.169.254/latest/meta-data',
    'http://[::1]:5000',
    'http://[::ffff:127.0.0.1]/',
    'http://10.0.0.1',
    'https://192.168.1.10:8443',
    'http://2130706433/',
    'http://0.0.0.0:80',
  ])('answers 400 VALIDATION_FAILED naming the allow-list when an upstream is added at %s', async (url) => {
    api = await startAdminApiHarness({ upstreamAllowedNetworks: [] });
    const res = await api.call('POST', `/registries/${await registry(api)}/upstreams`, { name: 'u', url });
    expect(res.statusCode).toBe(400);
    const error = res.json<{ errors: Array<{ code: string; message: string; detail: { field: string } }> }>().errors[0];
    expect(error).toMatchObject({ code: 'VALIDATION_FAILED', detail: { field: 'url' } });
    expect(error?.message).toContain('VREG_UPSTREAM_ALLOWED_NETWORKS');
    expect((await api.call('GET', '/upstreams/1')).statusCode).toBe(404);
  });

  it('refuses an internal URL on change and on test connection too', async () => {
    api = await startAdminApiHarness({ upstreamAllowedNetworks: [] });
    const id = await registry(api);
    const created = await api.call('POST', `/registries/${id}/upstreams`, { name: 'u', url: 'https://registry.example' });
    expect(created.statusCode).toBe(201);
    const upstreamId = created.json<{ id: string }>().id;
    const patched = await api.call('PATCH', `/upstreams/${upstreamId}`, { url: 'http://169.254.169.254' });
    expect(patched.statusCode).toBe(400);
    expect((await api.call('GET', `/upstreams/${upstreamId}`)).json<{ url: string }>().url).toBe('https://registry.example');
    const tested = await api.call('POST', '/upstreams/test', { url: 'http://127.0.0.1:9' });
    expect(tested.statusCode).toBe(400);
    expect(tested.json<{ errors: Array<{ code: string }> }>().errors[0]?.code).toBe('VALIDATION_FAILED');
  });

  it('accepts an internal address the allow-list names, and only that one', async () => {
    api = await startAdminApiHarness({ upstreamAllowedNetworks: ['127.0.0.1', '10.0.0.0/8'] });
    const id = await registry(api);
    expect((await api.call('POST', `/registries/${id}/upstreams`, { name: 'a', url: 'http://127.0.0.1:5000' })).statusCode).toBe(201);
    expect((await api.call('POST', `/registries/${id}/upstreams`, { name: 'b', url: 'http://10.9.8.7:5000' })).statusCode).toBe(201);
    expect((await api.call('POST', `/registries/${id}/upstreams`, { name: 'c', url: 'http://127.0.0.2:5000' })).statusCode).toBe(400);
  });
});
