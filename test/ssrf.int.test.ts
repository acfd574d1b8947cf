import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedUnderTest } from './support/embedded-under-test.ts';
import type { VregUnderTest } from './support/pull-scenarios.ts';
import { AttackClasses, recordAttacks } from './support/security-record.ts';
import { testEnv } from './support/test-env.ts';

/** A server on `host` that counts requests and answers with `handler`. */
async function listen(
  host: string,
  handler: Parameters<typeof createServer>[1],
): Promise<{ server: Server; url: string; hits: () => number }> {
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    handler!(req, res);
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  return { server, url: `http://${host}:${(server.address() as AddressInfo).port}`, hits: () => hits };
}

describe('SSRF guard on upstream URLs (embedded vreg)', () => {
  const env = testEnv();
  let vreg: (VregUnderTest & { dataDir: string }) | undefined;
  const servers: Server[] = [];
  afterEach(async () => {
    await vreg?.stop();
    vreg = undefined;
    for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  });

  it('refuses a local registry as upstream unless VREG_UPSTREAM_ALLOWED_NETWORKS allows it, however its address is written', async () => {
    const tally = recordAttacks(AttackClasses.ssrf, 'internal upstream addresses in every form, stored or tested', 'test/ssrf.int.test.ts');
    vreg = await startEmbeddedUnderTest({ VREG_UPSTREAM_ALLOWED_NETWORKS: '' });
    const { id } = await vreg.admin.createRegistry('strict', { visibility: 'public' });
    for (const url of [
      env.upstreamA,
      'http://169.254.169.254/latest/meta-data',
      'http://[::1]:5000',
      'http://10.1.2.3',
      'http://localhost:5000',
      'http://2130706433/',
      'http://0x7f.1/',
      'http://0177.0.0.1/',
      'http://127.1/',
      'http://[::ffff:127.0.0.1]/',
      'http://[0:0:0:0:0:ffff:7f00:1]/',
      'http://0.0.0.0/',
      'http://100.64.0.1/',
      'http://192.168.1.10:8443/',
      'http://[fd00::1]/',
      'http://[fe80::1]/',
    ]) {
      tally.tried();
      const res = await vreg.admin.call<{ errors: Array<{ code: string; message: string }> }>('POST', `/registries/${id}/upstreams`, {
        name: 'u',
        url,
      });
      expect(res.status, url).toBe(400);
      expect(res.body.errors[0]?.code).toBe('VALIDATION_FAILED');
      expect(res.body.errors[0]?.message).toContain('VREG_UPSTREAM_ALLOWED_NETWORKS');
    }
    const tested = await vreg.admin.call('POST', '/upstreams/test', { url: env.upstreamA });
    tally.tried();
    expect(tested.status).toBe(400);
  });

  it("does not follow an allowed upstream's redirect to an address outside the allow-list, and pulls from the allowed one", async () => {
    const tally = recordAttacks(AttackClasses.ssrf, "an allowed upstream's redirect to an internal address", 'test/ssrf.int.test.ts');
    vreg = await startEmbeddedUnderTest(); // allows 127.0.0.1 only
    const internal = await listen('127.0.0.2', (_req, res) =>
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }).end('{"schemaVersion":2}'),
    );
    servers.push(internal.server);
    const bouncer = await listen('127.0.0.1', (req, res) => {
      if (req.url === '/v2/') return res.writeHead(200, { 'docker-distribution-api-version': 'registry/2.0' }).end('{}');
      return res.writeHead(307, { location: `${internal.url}${req.url}` }).end();
    });
    servers.push(bouncer.server);
    const { id } = await vreg.admin.createRegistry('bounce', { visibility: 'public' });
    expect((await vreg.admin.call('POST', `/registries/${id}/upstreams`, { name: 'bouncer', url: bouncer.url })).status).toBe(201);
    expect((await vreg.admin.call('POST', `/registries/${id}/upstreams`, { name: 'internal', url: internal.url })).status).toBe(400);

    const res = await fetch(`${vreg.gatewayUrl}/v2/virtual_registries/containers/${id}/library/alpine/manifests/latest`);
    tally.tried(2);
    expect(res.status).toBeGreaterThanOrEqual(500); // the only upstream is unusable: UNAVAILABLE, never the internal answer
    expect(((await res.json()) as { errors: Array<{ code: string }> }).errors[0]?.code).toBe('UNAVAILABLE');
    expect(bouncer.hits()).toBeGreaterThan(0);
    expect(internal.hits()).toBe(0);

    const seeded = env.seeded[0]!;
    const { id: good } = await vreg.admin.createRegistry('good', { visibility: 'public' });
    await vreg.admin.addUpstream(good, { name: 'a', url: env.upstreamA });
    const pulled = await fetch(`${vreg.gatewayUrl}/v2/virtual_registries/containers/${good}/${seeded.name}/manifests/${seeded.tag}`, {
      headers: {
        accept:
          'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json',
      },
    });
    expect(pulled.status).toBe(200);
  });
});
