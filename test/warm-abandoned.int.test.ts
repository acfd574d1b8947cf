import type { AddressInfo } from 'node:net';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startDistributedUnderTest, stopService } from './support/distributed-under-test.ts';
import { startEmbeddedUnderTest } from './support/embedded-under-test.ts';
import type { VregUnderTest } from './support/pull-scenarios.ts';
import { waitFor } from './support/wait.ts';

interface JobJson {
  id: string;
  state: 'queued' | 'running' | 'succeeded' | 'failed';
  errors: string[];
  finished_at: string | null;
}

/** An upstream that accepts connections and never answers: a warm from it stalls for ever. */
class SilentUpstream {
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;

  async start(): Promise<string> {
    this.#server = createServer((socket) => {
      this.#sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => this.#sockets.delete(socket));
    });
    await new Promise<void>((r) => this.#server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  get connections(): number {
    return this.#sockets.size;
  }

  async stop(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((r) => (this.#server ? this.#server.close(() => r()) : r()));
  }
}

const ABANDONED = /^abandoned: no progress report from any fetcher for [\d.]+ s; run the warm again$/;

async function startWarm(vreg: VregUnderTest, upstreamUrl: string, name: string): Promise<string> {
  const registryId = (await vreg.admin.createRegistry(name)).id;
  await vreg.admin.addUpstream(registryId, { name: 'silent', url: upstreamUrl });
  const res = await vreg.admin.call<JobJson>('POST', `/registries/${registryId}/warm`, {
    image: 'library/stalled',
    tag: 'latest',
    platforms: 'all',
  });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body.id;
}

const jobOf = async (vreg: VregUnderTest, id: string): Promise<JobJson> => (await vreg.admin.call<JobJson>('GET', `/jobs/${id}`)).body;
const ended = (vreg: VregUnderTest, id: string, timeoutMs: number): Promise<JobJson> =>
  waitFor(
    `warm job ${id} to end`,
    async () => {
      const job = await jobOf(vreg, id);
      return job.state === 'succeeded' || job.state === 'failed' ? job : undefined;
    },
    timeoutMs,
    100,
  );

describe('a warm whose upstream stalls for ever', () => {
  const upstream = new SilentUpstream();
  let upstreamUrl: string;
  let vreg: (VregUnderTest & { services?: Array<{ name: string }> }) | undefined;

  beforeAll(async () => {
    upstreamUrl = await upstream.start();
  });
  afterEach(async () => {
    await vreg?.stop();
    vreg = undefined;
  });
  afterAll(async () => {
    await upstream.stop();
  });

  it("stays running on the fetcher's heartbeats, then fails as abandoned within the deadline once the fetcher is killed (distributed)", async () => {
    const distributed = await startDistributedUnderTest({
      catalog: { VREG_WARM_ABANDON_MS: '3000' },
      fetcher: { VREG_WARM_HEARTBEAT_MS: '500' },
    });
    vreg = distributed;
    const id = await startWarm(distributed, upstreamUrl, 'warm-stalled-killed');
    await waitFor(
      'the fetcher to start the warm',
      async () => ((await jobOf(distributed, id)).state === 'running' && upstream.connections > 0 ? true : undefined),
      20_000,
    );
    // Twice the abandonment deadline without a single change: the heartbeats keep it alive.
    await new Promise((r) => setTimeout(r, 6000));
    expect((await jobOf(distributed, id)).state).toBe('running');

    await stopService(distributed.services.find((s) => s.name === 'fetcher')!, 'SIGKILL');
    const killedAt = Date.now();
    const job = await ended(distributed, id, 20_000);
    // 3 s of silence (from the last heartbeat, at most 0.5 s before the kill) plus one sweep period (0.75 s), with room for CI.
    expect(Date.now() - killedAt).toBeLessThan(10_000);
    expect(job.state).toBe('failed');
    expect(job.finished_at).not.toBeNull();
    expect(job.errors.at(-1)).toMatch(ABANDONED);
  });

  it("ends failed with the attempt's timeout, never taken for abandoned while the fetcher reports (embedded)", async () => {
    vreg = await startEmbeddedUnderTest({
      VREG_WARM_HEARTBEAT_MS: '300',
      VREG_WARM_ABANDON_MS: '1500',
      VREG_WARM_TIMEOUT_MS: '5000',
      VREG_WARM_MAX_DELIVER: '1',
    });
    const started = Date.now();
    const id = await startWarm(vreg, upstreamUrl, 'warm-stalled-timeout');
    const job = await ended(vreg, id, 30_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(4500);
    expect(job.state).toBe('failed');
    expect(job.errors.some((e) => e.startsWith('abandoned'))).toBe(false);
    expect(job.errors.join('\n')).toMatch(/library\/stalled:latest: .*(timeout|timed out|aborted)/i);
  });

  it("fails as abandoned when no report comes for the deadline, and the fetcher's late report does not bring it back (embedded)", async () => {
    // A heartbeat far beyond the deadline plays a fetcher that went silent.
    vreg = await startEmbeddedUnderTest({
      VREG_WARM_HEARTBEAT_MS: '600000',
      VREG_WARM_ABANDON_MS: '1500',
      VREG_WARM_TIMEOUT_MS: '6000',
      VREG_WARM_MAX_DELIVER: '1',
    });
    const started = Date.now();
    const id = await startWarm(vreg, upstreamUrl, 'warm-stalled-silent');
    const job = await ended(vreg, id, 15_000);
    expect(Date.now() - started).toBeLessThan(5500);
    expect(job).toMatchObject({ state: 'failed', errors: [expect.stringMatching(ABANDONED)] });
    // The attempt's own failure report arrives after its 6 s deadline: dropped, the job stays as the watchdog left it.
    await new Promise((r) => setTimeout(r, 7000 - (Date.now() - started)));
    expect(await jobOf(vreg, id)).toEqual(job);
  });
});
