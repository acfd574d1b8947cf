import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AdminApiHarness, startAdminApiHarness } from './testing/admin-api-harness.ts';

let api: AdminApiHarness;
beforeEach(async () => {
  api = await startAdminApiHarness();
  await api.call('POST', '/registries', { name: 'hub' });
  await api.call('POST', '/registries', { name: 'github' });
});
afterEach(async () => {
  await api.close();
});

describe('admin API: mirror hosts', () => {
  it('sets a registry’s hosts normalised, deduplicated and sorted, and reads them back', async () => {
    const res = await api.call('PUT', '/registries/1/mirror_hosts', { hosts: ['Registry-1.Docker.io', 'ghcr.io', 'index.docker.io'] });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ registry_id: '1', hosts: ['docker.io', 'ghcr.io'] });
    expect((await api.call('GET', '/registries/1/mirror_hosts')).json()).toEqual({ registry_id: '1', hosts: ['docker.io', 'ghcr.io'] });
    expect((await api.call('GET', '/registries/2/mirror_hosts')).json()).toEqual({ registry_id: '2', hosts: [] });
  });

  it('answers 409 CONFLICT naming the host and its registry when another registry mirrors it', async () => {
    await api.call('PUT', '/registries/1/mirror_hosts', { hosts: ['docker.io'] });
    const res = await api.call('PUT', '/registries/2/mirror_hosts', { hosts: ['quay.io', 'registry-1.docker.io'] });
    expect(res.statusCode).toBe(409);
    expect(res.json().errors[0]).toMatchObject({
      code: 'CONFLICT',
      message: 'docker.io is already mirrored by registry 1: a host belongs to one registry',
      detail: { host: 'docker.io', registryId: '1' },
    });
    expect((await api.call('GET', '/registries/2/mirror_hosts')).json().hosts).toEqual([]);
  });

  it('refuses values that are not host names with 400 VALIDATION_FAILED quoting the value', async () => {
    for (const bad of ['https://ghcr.io', 'ghcr.io/org', 'user@ghcr.io', 'ghcr.io:99999', '', ' ', '-bad.example']) {
      const res = await api.call('PUT', '/registries/1/mirror_hosts', { hosts: [bad] });
      expect(res.statusCode, bad).toBe(400);
      expect(res.json().errors[0].code).toBe('VALIDATION_FAILED');
    }
    const res = await api.call('PUT', '/registries/1/mirror_hosts', { hosts: ['ghcr.io/org'] });
    expect(res.json().errors[0].message).toContain('"ghcr.io/org" is not a registry host name');
    expect((await api.call('PUT', '/registries/1/mirror_hosts', { hosts: 'docker.io' })).statusCode).toBe(400);
    expect((await api.call('PUT', '/registries/1/mirror_hosts', { hosts: [], extra: 1 })).statusCode).toBe(400);
  });

  it('answers 404 for a registry that does not exist', async () => {
    expect((await api.call('GET', '/registries/9/mirror_hosts')).statusCode).toBe(404);
    expect((await api.call('PUT', '/registries/9/mirror_hosts', { hosts: ['docker.io'] })).statusCode).toBe(404);
  });

  it('lists every mirrored host with its registry, and forgets a deleted registry’s hosts', async () => {
    await api.call('PUT', '/registries/1/mirror_hosts', { hosts: ['docker.io'] });
    await api.call('PUT', '/registries/2/mirror_hosts', { hosts: ['ghcr.io', 'quay.io'] });
    expect((await api.call('GET', '/mirror_hosts')).json()).toEqual([
      { host: 'docker.io', registry_id: '1' },
      { host: 'ghcr.io', registry_id: '2' },
      { host: 'quay.io', registry_id: '2' },
    ]);
    expect((await api.call('DELETE', '/registries/2')).statusCode).toBe(204);
    expect((await api.call('GET', '/mirror_hosts')).json()).toEqual([{ host: 'docker.io', registry_id: '1' }]);
    // The host is free again for another registry.
    await api.call('POST', '/registries', { name: 'github-again' });
    expect((await api.call('PUT', '/registries/3/mirror_hosts', { hosts: ['ghcr.io'] })).statusCode).toBe(200);
  });

  it('describes the routes in the OpenAPI document', async () => {
    const doc = (await api.server.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json();
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/registries/{id}/mirror_hosts', '/api/v1/mirror_hosts']));
    expect(doc.paths['/api/v1/registries/{id}/mirror_hosts'].put.responses).toHaveProperty('409');
  });
});
