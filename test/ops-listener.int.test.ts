import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@vreg/logging';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedVreg, startEmbedded } from '../src/embedded.ts';
import { loadEmbeddedConfig } from '../src/embedded-config.ts';
import { AdminClient } from './support/admin-client.ts';
import { type ServiceProcess, startDistributedUnderTest } from './support/distributed-under-test.ts';
import { LOCAL_UPSTREAMS } from './support/embedded-under-test.ts';
import { firstLayer, IMAGE, parseMetrics } from './support/observability.ts';
import type { VregUnderTest } from './support/pull-scenarios.ts';
import { AttackClasses, recordAttacks } from './support/security-record.ts';
import { testEnv } from './support/test-env.ts';

const status = async (url: string): Promise<number> => (await fetch(url)).status;

/** Pulls one blob through a public registry over upstream A: the metrics then name the upstream and the registry. */
async function pullOnce(gatewayUrl: string, admin: AdminClient, upstreamA: string): Promise<string> {
  const { id } = await admin.createRegistry(`ops-${Date.now()}`, { visibility: 'public' });
  await admin.addUpstream(id, { name: 'a', url: upstreamA });
  const layer = await firstLayer(upstreamA, IMAGE);
  const res = await fetch(`${gatewayUrl}/v2/virtual_registries/containers/${id}/${IMAGE.name}/blobs/${layer.digest}`);
  expect(res.status).toBe(200);
  await res.arrayBuffer();
  return id;
}

/** What a client of the public port sees: no metrics, no health, no readiness report. */
async function expectNothingOpsOn(publicUrl: string): Promise<void> {
  for (const path of ['/metrics', '/healthz', '/readyz']) expect(await status(`${publicUrl}${path}`), `${publicUrl}${path}`).toBe(404);
}

/** The ops listener serves all three, and nothing else. */
async function expectOpsOn(opsUrl: string): Promise<string> {
  expect(await status(`${opsUrl}/healthz`)).toBe(200);
  expect(await status(`${opsUrl}/readyz`)).toBe(200);
  expect(await status(`${opsUrl}/v2/`)).toBe(404);
  const res = await fetch(`${opsUrl}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  return res.text();
}

describe('metrics and health on an ops listener of their own (VREG_OPS_LISTEN)', () => {
  const env = testEnv();

  describe('embedded mode', () => {
    let vreg: EmbeddedVreg;
    let dataDir: string;
    beforeAll(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'vreg-ops-'));
      const config = loadEmbeddedConfig({
        VREG_LISTEN: '127.0.0.1:0',
        VREG_OPS_LISTEN: '127.0.0.1:0',
        VREG_DATA_DIR: dataDir,
        VREG_LOG_LEVEL: 'warn',
        ...LOCAL_UPSTREAMS,
      });
      vreg = await startEmbedded(config, createLogger({ level: 'warn', name: 'vreg-test' }));
    });
    afterAll(async () => {
      await vreg?.stop();
      // A fill's commit may still be renaming its file into place as the process stops.
      await rm(dataDir, { recursive: true, force: true, maxRetries: 10 });
    });

    it('moves /metrics, /healthz and /readyz off the public port, which keeps serving pulls and the admin API', async () => {
      // The three ops paths asked on the public port.
      recordAttacks(
        AttackClasses.infoLeaks,
        'moves /metrics, /healthz and /readyz off the public port, which keeps serving pulls and the admin API',
        'test/ops-listener.int.test.ts',
      ).tried(3);
      expect(vreg.opsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const registryId = await pullOnce(vreg.url, new AdminClient(vreg.url, vreg.adminToken), env.upstreamA);
      await expectNothingOpsOn(vreg.url);
      const metrics = parseMetrics(await expectOpsOn(vreg.opsUrl as string));
      // What the public port no longer shows: upstream hosts and per-registry counters.
      expect(metrics.some((m) => m.name.startsWith('vreg_upstream_') && m.labels.upstream?.includes('127.0.0.1'))).toBe(true);
      expect(metrics.some((m) => m.labels.registry === registryId)).toBe(true);
      expect(await status(`${vreg.url}/api/v1/registries`)).toBe(401);
    });
  });

  describe('distributed mode', () => {
    let vreg: VregUnderTest & { services: ServiceProcess[] };
    beforeAll(async () => {
      vreg = await startDistributedUnderTest({}, { ops: true });
    });
    afterAll(async () => vreg?.stop());

    it('serves them on each process’s ops listener only: the gateway’s and the catalog’s public ports have none, the fetcher listens nowhere else', async () => {
      // The three ops paths on the gateway's and the catalog's public ports, /healthz on the fetcher's.
      recordAttacks(
        AttackClasses.infoLeaks,
        'serves them on each process’s ops listener only: the gateway’s and the catalog’s public ports have none, the fetcher listens nowhere else',
        'test/ops-listener.int.test.ts',
      ).tried(7);
      await pullOnce(vreg.gatewayUrl, vreg.admin, env.upstreamA);
      for (const service of vreg.services) {
        expect(service.opsUrl, service.name).toBeDefined();
        const metrics = await expectOpsOn(service.opsUrl as string);
        expect(metrics, service.name).toContain('vreg_');
        if (service.name === 'fetcher') await expect(fetch(`${service.url}/healthz`)).rejects.toThrow();
        else await expectNothingOpsOn(service.url);
      }
    });
  });
});
