import { ConfigInvalidError, ErrorCodes } from '@vreg/contracts';
import { describe, expect, it } from 'vitest';
import { loadCatalogAppConfig, loadCatalogConfig } from './config.ts';

const KEY_HEX = 'ab'.repeat(32);
const required = { VREG_ADMIN_TOKEN: 'admin-token-of-20-chars', VREG_SECRET_KEY: KEY_HEX, VREG_S3_BUCKET: 'vreg-blobs' };

describe('loadCatalogConfig', () => {
  it('fills every default, listening on 127.0.0.1:5002', () => {
    expect(loadCatalogConfig(required)).toMatchObject({
      VREG_LOG_LEVEL: 'info',
      VREG_NATS_URL: 'nats://127.0.0.1:4222',
      VREG_NAMESPACE: '',
      VREG_NATS_REPLICAS: 1,
      VREG_MONGO_URL: 'mongodb://127.0.0.1:27017/',
      VREG_MONGO_DB: 'vreg',
      VREG_LISTEN: '127.0.0.1:5002',
      VREG_ADMIN_TOKEN: 'admin-token-of-20-chars',
      VREG_SECRET_KEY: KEY_HEX,
      VREG_CATALOG_OBJECTS_CONCURRENCY: 4,
      VREG_LAST_USED_FLUSH_MS: 60_000,
    });
  });

  it('reads every setting from the environment', () => {
    const config = loadCatalogConfig({
      ...required,
      VREG_LOG_LEVEL: 'debug',
      VREG_NATS_URL: 'nats://a:4222, nats://b:4222',
      VREG_NAMESPACE: 'ci-1',
      VREG_NATS_REPLICAS: '3',
      VREG_MONGO_URL: 'mongodb://mongo:27017/',
      VREG_MONGO_DB: 'catalog',
      VREG_LISTEN: '0.0.0.0:8080',
      VREG_CATALOG_OBJECTS_CONCURRENCY: '8',
    });
    expect(config).toMatchObject({
      VREG_LOG_LEVEL: 'debug',
      VREG_NATS_URL: 'nats://a:4222, nats://b:4222',
      VREG_NAMESPACE: 'ci-1',
      VREG_NATS_REPLICAS: 3,
      VREG_MONGO_URL: 'mongodb://mongo:27017/',
      VREG_MONGO_DB: 'catalog',
      VREG_LISTEN: '0.0.0.0:8080',
      VREG_CATALOG_OBJECTS_CONCURRENCY: 8,
    });
  });

  it('reports every problem at once', () => {
    let error: unknown;
    try {
      loadCatalogConfig({ VREG_ADMIN_TOKEN: 'short', VREG_LISTEN: 'nohost', VREG_MONGO_URL: 'http://x', VREG_LOG_LEVEL: 'loud' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigInvalidError);
    expect((error as ConfigInvalidError).code).toBe(ErrorCodes.configInvalid);
    const problems = (error as ConfigInvalidError).problems.join('\n');
    for (const variable of ['VREG_ADMIN_TOKEN', 'VREG_SECRET_KEY', 'VREG_LISTEN', 'VREG_MONGO_URL', 'VREG_LOG_LEVEL']) {
      expect(problems).toContain(variable);
    }
  });

  it('requires an admin token of at least 16 characters without whitespace', () => {
    expect(() => loadCatalogConfig({ ...required, VREG_ADMIN_TOKEN: 'x'.repeat(15) })).toThrow(/VREG_ADMIN_TOKEN/);
    expect(() => loadCatalogConfig({ ...required, VREG_ADMIN_TOKEN: 'has a space in it ok' })).toThrow(/whitespace/);
    expect(() => loadCatalogConfig({ VREG_SECRET_KEY: KEY_HEX })).toThrow(/VREG_ADMIN_TOKEN/);
  });

  it('checks the secret key and the previous keys for rotation (none by default), naming a malformed one', () => {
    expect(loadCatalogConfig(required).VREG_SECRET_KEY_PREVIOUS).toBeUndefined();
    const previous = `${'cd'.repeat(32)}, ${Buffer.alloc(32, 9).toString('base64')}`;
    expect(loadCatalogConfig({ ...required, VREG_SECRET_KEY_PREVIOUS: previous }).VREG_SECRET_KEY_PREVIOUS).toBe(previous);
    expect(() => loadCatalogConfig({ ...required, VREG_SECRET_KEY_PREVIOUS: `${KEY_HEX},short` })).toThrow(/VREG_SECRET_KEY_PREVIOUS/);
    expect(() => loadCatalogConfig({ ...required, VREG_SECRET_KEY: 'short' })).toThrow(/VREG_SECRET_KEY/);
  });

  it('reads the S3 bucket GC deletes from, and GC timings with their defaults (grace 1 h)', () => {
    expect(loadCatalogConfig(required)).toMatchObject({
      VREG_S3_BUCKET: 'vreg-blobs',
      VREG_S3_REGION: 'us-east-1',
      VREG_S3_FORCE_PATH_STYLE: true,
      VREG_GC_GRACE_MS: 3_600_000,
      VREG_GC_INTERVAL_MS: 900_000,
      VREG_DESTRUCTION_INTERVAL_MS: 60_000,
    });
    const set = loadCatalogConfig({
      ...required,
      VREG_S3_ENDPOINT: 'http://minio:9000',
      VREG_GC_GRACE_MS: '0',
      VREG_GC_INTERVAL_MS: '0',
      VREG_DESTRUCTION_INTERVAL_MS: '500',
    });
    expect(set).toMatchObject({
      VREG_S3_ENDPOINT: 'http://minio:9000',
      VREG_GC_GRACE_MS: 0,
      VREG_GC_INTERVAL_MS: 0,
      VREG_DESTRUCTION_INTERVAL_MS: 500,
    });
    expect(() => loadCatalogConfig({ ...required, VREG_GC_GRACE_MS: '-1' })).toThrow(/VREG_GC_GRACE_MS/);
    expect(() => loadCatalogConfig({ VREG_ADMIN_TOKEN: 'admin-token-of-20-chars', VREG_SECRET_KEY: KEY_HEX })).toThrow(/VREG_S3_BUCKET/);
  });

  it('refuses a port above 65535', () => {
    expect(() => loadCatalogConfig({ ...required, VREG_LISTEN: '127.0.0.1:70000' })).toThrow(/VREG_LISTEN/);
  });

  it('returns a frozen configuration', () => {
    expect(Object.isFrozen(loadCatalogConfig(required))).toBe(true);
  });
});

describe('loadCatalogAppConfig', () => {
  it('fills the defaults of the settings buildApp reads, embedded and distributed alike', () => {
    expect(loadCatalogAppConfig({})).toEqual({
      VREG_GC_GRACE_MS: 3_600_000,
      VREG_GC_INTERVAL_MS: 900_000,
      VREG_DESTRUCTION_INTERVAL_MS: 60_000,
      VREG_JOB_POLL_INTERVAL_MS: 5_000,
      VREG_CLEANUP_SCHEDULER_INTERVAL_MS: 60_000,
      VREG_QUOTA_SWEEP_INTERVAL_MS: 300_000,
      VREG_WARM_ABANDON_MS: 120_000,
      VREG_WARM_QUEUED_ABANDON_MS: 1_800_000,
      VREG_POLICY_DENIALS_MAX_AGE_DAYS: 30,
      VREG_POLICY_DENIALS_MAX_RECORDS: 100_000,
      VREG_CATALOG_OBJECTS_CONCURRENCY: 4,
      VREG_LAST_USED_FLUSH_MS: 60_000,
      VREG_ADMIN_AUTH_FAILURES_PER_ADDRESS: 10,
      VREG_ADMIN_AUTH_FAILURE_WINDOW_SECONDS: 300,
    });
  });
});
