import { GenericContainer, type StartedTestContainer, Wait } from 'testcontainers';

/**
 * Vitest global setup for machines with Docker: with
 * VREG_TEST_USE_TESTCONTAINERS=1 (scripts/test.sh then starts only the two
 * upstream registries), NATS, MongoDB and MinIO run as containers and the
 * suite gets their addresses through the same VREG_TEST_* variables the
 * local servers provide. Without the flag this does nothing.
 */
export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  if (process.env.VREG_TEST_USE_TESTCONTAINERS !== '1' || process.env.VREG_TEST_NATS_URL) return undefined;
  const started: StartedTestContainer[] = [];
  const nats = await new GenericContainer('nats:2.11')
    .withCommand(['-js'])
    .withExposedPorts(4222)
    .withWaitStrategy(Wait.forLogMessage(/Server is ready/))
    .start();
  started.push(nats);
  const mongo = await new GenericContainer('mongo:7')
    .withExposedPorts(27017)
    .withWaitStrategy(Wait.forLogMessage(/Waiting for connections/))
    .start();
  started.push(mongo);
  const minio = await new GenericContainer('minio/minio:latest')
    .withCommand(['server', '/data'])
    .withEnvironment({ MINIO_ROOT_USER: 'vregtest', MINIO_ROOT_PASSWORD: 'vregtest-secret' })
    .withExposedPorts(9000)
    .withWaitStrategy(Wait.forHttp('/minio/health/live', 9000))
    .start();
  started.push(minio);
  Object.assign(process.env, {
    VREG_TEST_NATS_URL: `nats://${nats.getHost()}:${nats.getMappedPort(4222)}`,
    VREG_TEST_MONGO_URL: `mongodb://${mongo.getHost()}:${mongo.getMappedPort(27017)}/`,
    VREG_TEST_S3_ENDPOINT: `http://${minio.getHost()}:${minio.getMappedPort(9000)}`,
    VREG_TEST_S3_REGION: 'us-east-1',
    VREG_TEST_S3_ACCESS_KEY: 'vregtest',
    VREG_TEST_S3_SECRET_KEY: 'vregtest-secret',
  });
  return async () => {
    for (const c of started.reverse()) await c.stop();
  };
}
