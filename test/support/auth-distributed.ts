import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { AuthVregUnderTest } from './auth-scenarios.ts';
import { type ServiceProcess, startDistributedUnderTest, startService, stopService } from './distributed-under-test.ts';
import { testEnv } from './test-env.ts';
import { waitFor } from './wait.ts';

/** Distributed vreg with extra handles for access-control tests. */
export interface TappedDistributedVreg extends AuthVregUnderTest {
  gatewayUrls: string[];
  /** The Ed25519 seed (hex) every gateway started here signs with. */
  signingSeed: string;
  /** Starts one more gateway with extra settings (another key ring); stopped with the rest. */
  startGateway(env: Record<string, string>): Promise<ServiceProcess>;
  /** Resolves once `published()` holds every message NATS routed before the call (whatever the machine's load). */
  tapCaughtUp(): Promise<void>;
}

/**
 * The three services as processes (with `gateways` gateways sharing one
 * signing key), every service logging at trace level, and a tap on NATS
 * recording every message of the test server (subjects, headers, payloads:
 * events, requests and replies alike) while the test runs.
 */
export async function startDistributedWithTap(options: { gateways?: number } = {}): Promise<TappedDistributedVreg> {
  const t = testEnv();
  const nc: NatsConnection = await connect({ servers: t.natsUrl.split(','), name: 'vreg-auth-test-tap' });
  const seen: string[] = [];
  const sub = nc.subscribe('>');
  const tapping = (async () => {
    for await (const m of sub) {
      const headers = m.headers ? [...m.headers.keys()].map((k) => `${k}: ${m.headers!.values(k).join(',')}`).join('\n') : '';
      seen.push(`${m.subject}\n${headers}\n${m.string()}\n`);
    }
  })();
  await nc.flush();

  const signingSeed = randomBytes(32).toString('hex');
  const trace = { VREG_LOG_LEVEL: 'trace' };
  let vreg: Awaited<ReturnType<typeof startDistributedUnderTest>>;
  try {
    vreg = await startDistributedUnderTest(
      { catalog: trace, fetcher: trace, gateway: { ...trace, VREG_TOKEN_SIGNING_KEYS: signingSeed } },
      { gateways: options.gateways ?? 1 },
    );
  } catch (err) {
    await nc.close();
    throw err;
  }
  const extra: ServiceProcess[] = [];
  return {
    ...vreg,
    signingSeed,
    logs: () => [...vreg.services, ...extra].map((s) => s.fullOutput()).join('\n'),
    published: () => seen.join(''),
    async tapCaughtUp() {
      // NATS answers the tap's flush after the messages it routed to the tap before it; then the loop above records them.
      await nc.flush();
      await waitFor(
        'the NATS tap to record what it received',
        async () => (seen.length >= sub.getReceived() ? true : undefined),
        10_000,
        10,
      );
    },
    async startGateway(env) {
      const gateway = await startService('gateway', { ...vreg.env, ...trace, ...env });
      extra.push(gateway);
      return gateway;
    },
    async stop() {
      for (const s of extra) await stopService(s);
      await vreg.stop();
      sub.unsubscribe();
      await nc.close();
      await tapping;
    },
  };
}
