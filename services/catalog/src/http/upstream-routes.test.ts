import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AdminApiHarness, startAdminApiHarness } from './testing/admin-api-harness.ts';

let api: AdminApiHarness;
beforeEach(async () => {
  api = await startAdminApiHarness();
  await api.call('POST', '/registries', { name: 'containers' });
});
afterEach(async () => {
  await api.close();
});

const names = async (): Promise<string[]> => (await api.call('GET', '/registries/1/upstreams')).json().map((u: { name: string }) => u.name);

describe('admin API: upstreams', () => {
  it('adds two upstreams in order with defaults and answers snake_case JSON', async () => {
    const hub = await api.call('POST', '/registries/1/upstreams', { name: 'hub', url: 'https://registry-1.docker.io/' });
    expect(hub.statusCode).toBe(201);
    expect(hub.json()).toEqual({
      id: '1',
      registry_id: '1',
      name: 'hub',
      url: 'https://registry-1.docker.io',
      has_password: false,
      cache_validity_hours: 24,
      library_prefix: true,
      position: 0,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    const ghcr = await api.call('POST', '/registries/1/upstreams', { name: 'ghcr', url: 'https://ghcr.io', cache_validity_hours: 0 });
    expect(ghcr.json()).toMatchObject({ position: 1, cache_validity_hours: 0, library_prefix: false });
    const patched = await api.call('PATCH', `/upstreams/${ghcr.json().id}`, { library_prefix: true });
    expect(patched.json()).toMatchObject({ library_prefix: true });
    const list = await api.call('GET', '/registries/1/upstreams');
    expect(list.json().map((u: { name: string; position: number }) => [u.name, u.position])).toEqual([
      ['hub', 0],
      ['ghcr', 1],
    ]);
  });

  it('inserts at a given position and reorders when a PATCH moves an upstream', async () => {
    await api.call('POST', '/registries/1/upstreams', { name: 'a', url: 'https://a.example' });
    await api.call('POST', '/registries/1/upstreams', { name: 'b', url: 'https://b.example' });
    await api.call('POST', '/registries/1/upstreams', { name: 'first', url: 'https://first.example', position: 0 });
    expect(await names()).toEqual(['first', 'a', 'b']);
    const moved = await api.call('PATCH', '/upstreams/3', { position: 2 });
    expect(moved.json()).toMatchObject({ name: 'first', position: 2 });
    expect(await names()).toEqual(['a', 'b', 'first']);
  });

  it('changes name, url and cache validity with a PATCH and keeps the rest', async () => {
    await api.call('POST', '/registries/1/upstreams', { name: 'hub', url: 'https://hub.example', username: 'bot', password: 'pw-123456' });
    const res = await api.call('PATCH', '/upstreams/1', { name: 'docker hub', url: 'https://mirror.example/', cache_validity_hours: 48 });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      name: 'docker hub',
      url: 'https://mirror.example',
      cache_validity_hours: 48,
      username: 'bot',
      has_password: true,
    });
    expect((await api.call('GET', '/upstreams/1')).json()).toEqual(res.json());
  });

  it('never shows the password, sealed or not, in any response', async () => {
    const secret = 'hunter2-very-secret';
    const responses = [
      await api.call('POST', '/registries/1/upstreams', {
        name: 'private',
        url: 'https://private.example',
        username: 'bot',
        password: secret,
      }),
      await api.call('GET', '/registries/1/upstreams'),
      await api.call('GET', '/upstreams/1'),
      await api.call('PATCH', '/upstreams/1', { password: `${secret}-2` }),
    ];
    const sealed = (await api.store.upstreams.get('1'))?.passwordSealed as string;
    expect(api.box.open(sealed)).toBe(`${secret}-2`);
    for (const res of responses) {
      expect(res.statusCode).toBeLessThan(300);
      expect(res.body).not.toContain(secret);
      expect(res.body).not.toContain(sealed);
      expect(res.body).not.toMatch(/"password"|"password_sealed"|passwordSealed/);
    }
    expect(responses[0]?.json().has_password).toBe(true);
    const cleared = await api.call('PATCH', '/upstreams/1', { username: null, password: null });
    expect(cleared.json()).toMatchObject({ has_password: false });
    expect(cleared.json()).not.toHaveProperty('username');
  });

  it.each([
    ['credentials in the URL', { name: 'u', url: 'https://user:pass@registry.example' }],
    ['a user name in the URL', { name: 'u', url: 'https://user@registry.example' }],
    ['an ftp URL', { name: 'u', url: 'ftp://registry.example' }],
    ['a URL with a query', { name: 'u', url: 'https://registry.example/?x=1' }],
    ['a missing url', { name: 'u' }],
    ['cache_validity_hours above 8760', { name: 'u', url: 'https://r.example', cache_validity_hours: 8761 }],
    ['negative cache_validity_hours', { name: 'u', url: 'https://r.example', cache_validity_hours: -1 }],
    ['fractional cache_validity_hours', { name: 'u', url: 'https://r.example', cache_validity_hours: 1.5 }],
    ['a negative position', { name: 'u', url: 'https://r.example', position: -1 }],
    ['a password without a username', { name: 'u', url: 'https://r.example', password: 'pw' }],
    ['an unknown field', { name: 'u', url: 'https://r.example', token: 'x' }],
  ])('answers 400 VALIDATION_FAILED for %s', async (_what, body) => {
    const res = await api.call('POST', '/registries/1/upstreams', body);
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0].code).toBe('VALIDATION_FAILED');
    expect(res.body).not.toContain('pass@');
  });

  it('rejects credentials in the URL of a PATCH too', async () => {
    await api.call('POST', '/registries/1/upstreams', { name: 'u', url: 'https://r.example' });
    const res = await api.call('PATCH', '/upstreams/1', { url: 'https://a:b@r.example' });
    expect(res.statusCode).toBe(400);
    expect((await api.call('GET', '/upstreams/1')).json().url).toBe('https://r.example');
  });

  it('answers 404 NOT_FOUND for an unknown registry or upstream', async () => {
    const cases = [
      await api.call('POST', '/registries/9/upstreams', { name: 'u', url: 'https://r.example' }),
      await api.call('GET', '/registries/9/upstreams'),
      await api.call('GET', '/upstreams/9'),
      await api.call('PATCH', '/upstreams/9', { name: 'x' }),
      await api.call('DELETE', '/upstreams/9'),
      await api.call('GET', '/upstreams/9/cache_entries'),
    ];
    for (const res of cases) {
      expect(res.statusCode).toBe(404);
      expect(res.json().errors[0].code).toBe('NOT_FOUND');
    }
  });

  it('deletes an upstream and closes the gap in the order', async () => {
    await api.call('POST', '/registries/1/upstreams', { name: 'a', url: 'https://a.example' });
    await api.call('POST', '/registries/1/upstreams', { name: 'b', url: 'https://b.example' });
    expect((await api.call('DELETE', '/upstreams/1')).statusCode).toBe(204);
    expect((await api.call('GET', '/registries/1/upstreams')).json()).toEqual([expect.objectContaining({ name: 'b', position: 0 })]);
  });

  it('lists cache entries of an upstream by relative path with GitLab field names, a page at a time', async () => {
    await api.call('POST', '/registries/1/upstreams', { name: 'hub', url: 'https://hub.example' });
    for (const path of ['library/nginx/manifests/1', 'library/alpine/manifests/3', 'library/alpine/blobs/sha256:' + 'e'.repeat(64)]) {
      await api.store.cacheEntries.upsert({
        upstreamId: '1',
        registryId: '1',
        relativePath: path,
        digest: `sha256:${'e'.repeat(64)}`,
        contentType: 'application/vnd.oci.image.manifest.v1+json',
        size: 321,
        upstreamEtag: '"x"',
        upstreamCheckedAt: new Date('2025-04-01T00:00:00.000Z'),
      });
    }
    await api.store.cacheEntries.recordDownloads('1', 'library/alpine/manifests/3', 2, new Date('2025-04-02T00:00:00.000Z'));
    const res = await api.call('GET', '/upstreams/1/cache_entries?per_page=2');
    expect(res.headers).toMatchObject({ 'x-total': '3', 'x-total-pages': '2' });
    expect(res.json().map((e: { relative_path: string }) => e.relative_path)).toEqual([
      'library/alpine/blobs/sha256:' + 'e'.repeat(64),
      'library/alpine/manifests/3',
    ]);
    expect(res.json()[1]).toEqual({
      id: expect.stringMatching(/^1-[A-Za-z0-9_-]+$/),
      upstream_id: '1',
      registry_id: '1',
      relative_path: 'library/alpine/manifests/3',
      digest: `sha256:${'e'.repeat(64)}`,
      content_type: 'application/vnd.oci.image.manifest.v1+json',
      size: 321,
      upstream_etag: '"x"',
      upstream_checked_at: '2025-04-01T00:00:00.000Z',
      downloads_count: 2,
      downloaded_at: '2025-04-02T00:00:00.000Z',
      status: 'default',
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
  });
});
