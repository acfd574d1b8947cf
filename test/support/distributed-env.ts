import { randomBytes } from 'node:crypto';

/** Where the servers a distributed vreg runs on listen. */
export interface DistributedServers {
  natsUrl: string;
  mongoUrl: string;
  s3: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string };
}

/**
 * The environment the catalog, fetcher and gateway processes of one distributed
 * vreg share: its servers, its own namespace, database and bucket, a fresh secret
 * key and admin token.
 */
export function distributedEnv(
  servers: DistributedServers,
  own: { namespace: string; db: string; bucket: string },
): Record<string, string> {
  return {
    VREG_LOG_LEVEL: process.env.VREG_TEST_LOG_LEVEL ?? 'warn',
    VREG_NATS_URL: servers.natsUrl,
    VREG_NAMESPACE: own.namespace,
    // JetStream reserves each stream's max_bytes on disk up front; a test's streams hold a few hundred messages.
    VREG_NATS_STREAM_MAX_BYTES: String(16 << 20),
    VREG_SECRET_KEY: randomBytes(32).toString('hex'),
    VREG_MONGO_URL: servers.mongoUrl,
    VREG_MONGO_DB: own.db,
    VREG_ADMIN_TOKEN: `admin-${randomBytes(16).toString('hex')}`,
    VREG_S3_ENDPOINT: servers.s3.endpoint,
    VREG_S3_REGION: servers.s3.region,
    VREG_S3_BUCKET: own.bucket,
    VREG_S3_ACCESS_KEY_ID: servers.s3.accessKeyId,
    VREG_S3_SECRET_ACCESS_KEY: servers.s3.secretAccessKey,
    VREG_S3_FORCE_PATH_STYLE: 'true',
    // The test upstreams listen on loopback, which vreg refuses unless allowed (SSRF guard).
    VREG_UPSTREAM_ALLOWED_NETWORKS: '127.0.0.1',
    // One process per gateway (the tests count gateways, and upstream GETs across them); worker mode is tested on its own.
    VREG_WORKERS: '1',
  };
}
