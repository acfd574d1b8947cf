import { NatsEventBus } from '@vreg/bus';
import { S3BlobStore } from '@vreg/blob-store';
import { Streams, decodeKey, splitListen } from '@vreg/contracts';
import { NatsKvFillLease } from '@vreg/fill-lease';
import { createLogger } from '@vreg/logging';
import { SecretBox } from '@vreg/secrets';
import { HttpUpstreamRegistry } from '@vreg/upstream-client';
import { buildApp } from './app.ts';
import { TokenKeyRing } from './auth/token-key-ring.ts';
import { loadGatewayConfig } from './config.ts';
import { createServer } from './http/create-server.ts';

// Distributed mode: one gateway process. Signals and listen only.
const config = loadGatewayConfig(process.env);
const logger = createLogger({ level: config.VREG_LOG_LEVEL, name: 'vreg-gateway' });
const bus = await NatsEventBus.connect({ servers: config.VREG_NATS_URL.split(','), namespace: config.VREG_NAMESPACE, replicas: config.VREG_NATS_REPLICAS, logger });
await bus.ensureStreams(Object.values(Streams));
const leases = await NatsKvFillLease.create(bus.connection, { namespace: config.VREG_NAMESPACE, replicas: config.VREG_NATS_REPLICAS, ttlMs: config.VREG_FILL_LEASE_TTL_MS });
const store = new S3BlobStore({
  region: config.VREG_S3_REGION,
  bucket: config.VREG_S3_BUCKET,
  forcePathStyle: config.VREG_S3_FORCE_PATH_STYLE,
  partSizeBytes: config.VREG_S3_PART_SIZE_MIB << 20,
  ...(config.VREG_S3_ENDPOINT ? { endpoint: config.VREG_S3_ENDPOINT } : {}),
  ...(config.VREG_S3_ACCESS_KEY_ID ? { accessKeyId: config.VREG_S3_ACCESS_KEY_ID } : {}),
  ...(config.VREG_S3_SECRET_ACCESS_KEY ? { secretAccessKey: config.VREG_S3_SECRET_ACCESS_KEY } : {}),
});
const upstreams = new HttpUpstreamRegistry({
  connectTimeoutMs: config.VREG_UPSTREAM_CONNECT_TIMEOUT_MS,
  headersTimeoutMs: config.VREG_UPSTREAM_HEADERS_TIMEOUT_MS,
  bodyIdleTimeoutMs: config.VREG_UPSTREAM_BODY_IDLE_TIMEOUT_MS,
});
// Without configured signing keys, one is derived from the secrets key every replica shares.
const signingKeys = config.VREG_TOKEN_SIGNING_KEYS ? TokenKeyRing.parse(config.VREG_TOKEN_SIGNING_KEYS) : TokenKeyRing.deriveFrom(decodeKey(config.VREG_SECRET_KEY));
const app = buildApp(config, { bus, store, leases, upstreams, secrets: new SecretBox(decodeKey(config.VREG_SECRET_KEY)), logger, signingKeys });
const server = createServer(logger, config.VREG_TRUST_PROXY === undefined ? {} : { trustProxy: config.VREG_TRUST_PROXY });
server.get('/healthz', async () => ({ status: 'ok' }));
await server.register(app.routes, { prefix: '/v2' });
await server.listen(splitListen(config.VREG_LISTEN));

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    void (async () => {
      await server.close();
      await app.stop();
      await bus.close();
      process.exit(0);
    })();
  });
}
