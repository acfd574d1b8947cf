import { Readable } from 'node:stream';
import fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { notePull, requestTelemetry } from './request-telemetry.ts';
import { startTelemetry } from './start-telemetry.ts';

const blob = Buffer.alloc(70_000, 7);

async function appWithPulls() {
  const telemetry = startTelemetry({ serviceName: 'test', config: { VREG_OTEL: false } });
  const app = fastify();
  await app.register(requestTelemetry, { metrics: telemetry.metrics });
  await app.register(
    async (v2) => {
      v2.get<{ Params: { registryId: string; '*': string } }>('/virtual_registries/containers/:registryId/*', async (request, reply) => {
        const cache = request.headers['x-test-cache'] as string;
        reply.header('X-Vreg-Cache', cache);
        return reply.send(cache === 'hit' ? Readable.from([blob.subarray(0, 30_000), blob.subarray(30_000)]) : blob);
      });
    },
    { prefix: '/v2' },
  );
  return { app, telemetry };
}

describe('requestTelemetry', () => {
  it('counts cache results and the bytes written by source, with route templates and bounded labels', async () => {
    const { app, telemetry } = await appWithPulls();
    const url = `/v2/virtual_registries/containers/7/library/alpine/blobs/sha256:${'a'.repeat(64)}`;
    for (const cache of ['miss', 'hit', 'hit'])
      expect((await app.inject({ url, headers: { 'x-test-cache': cache } })).rawPayload.length).toBe(blob.length);
    await app.inject({ url: '/nowhere' });
    const text = await telemetry.renderMetrics();
    expect(text).toContain('vreg_cache_results_total{result="miss",registry="7",kind="blob"} 1');
    expect(text).toContain('vreg_cache_results_total{result="hit",registry="7",kind="blob"} 2');
    expect(text).toContain(`vreg_bytes_served_total{source="upstream",registry="7"} ${blob.length}`);
    expect(text).toContain(`vreg_bytes_served_total{source="cache",registry="7"} ${2 * blob.length}`);
    expect(text).toContain(
      'vreg_http_requests_total{route="/v2/virtual_registries/containers/:registryId/:name/blobs/:digest",method="GET",status="200"} 3',
    );
    expect(text).toContain('vreg_http_requests_total{route="unmatched",method="GET",status="404"} 1');
    expect(text).not.toMatch(/alpine|sha256:/);
    await app.close();
  });

  it('logs a 5xx at error, and at warn when it tells the client when to come back (Retry-After)', async () => {
    const telemetry = startTelemetry({ serviceName: 'test', config: { VREG_OTEL: false } });
    const lines: Array<{ level: number; msg: string; status?: number }> = [];
    const app = fastify({
      disableRequestLogging: true,
      logger: { level: 'info', stream: { write: (line: string) => void lines.push(JSON.parse(line)) } },
    });
    await app.register(requestTelemetry, { metrics: telemetry.metrics });
    app.get('/busy', async (_request, reply) => reply.code(503).header('Retry-After', '5').send({ errors: [] }));
    app.get('/broken', async (_request, reply) => reply.code(503).send({ errors: [] }));
    await app.inject({ url: '/busy' });
    await app.inject({ url: '/broken' });
    const completed = lines.filter((l) => l.msg === 'request completed').map((l) => [l.status, l.level]);
    expect(completed).toEqual([
      [503, 40],
      [503, 50],
    ]);
    await app.close();
  });

  it('does not count a HEAD as a pull', async () => {
    const { app, telemetry } = await appWithPulls();
    app.head('/v2/x', async () => '');
    await app.inject({
      method: 'HEAD',
      url: `/v2/virtual_registries/containers/7/library/alpine/manifests/latest`,
      headers: { 'x-test-cache': 'hit' },
    });
    expect(await telemetry.renderMetrics()).not.toContain('vreg_cache_results_total');
    await app.close();
  });

  it('labels root-path pulls with the registry and mirror host the route noted, and spells out the route template', async () => {
    const telemetry = startTelemetry({ serviceName: 'test', config: { VREG_OTEL: false } });
    const app = fastify();
    await app.register(requestTelemetry, { metrics: telemetry.metrics });
    await app.register(
      async (v2) => {
        v2.get('/*', async (request, reply) => {
          notePull(request, { registry: '4', image: 'library/alpine', reference: 'latest', kind: 'manifest', mirrorHost: 'docker.io' });
          reply.header('X-Vreg-Cache', 'miss');
          return reply.send(blob);
        });
      },
      { prefix: '/v2' },
    );
    await app.inject({ url: '/v2/alpine/manifests/latest' });
    const text = await telemetry.renderMetrics();
    expect(text).toContain('vreg_cache_results_total{result="miss",registry="4",kind="manifest",mirror_host="docker.io"} 1');
    expect(text).toContain(`vreg_bytes_served_total{source="upstream",registry="4",mirror_host="docker.io"} ${blob.length}`);
    expect(text).toContain('vreg_http_requests_total{route="/v2/:name/manifests/:reference",method="GET",status="200"} 1');
    await app.close();
  });
});
