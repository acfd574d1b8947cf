import { ConfigInvalidError, ErrorCodes } from '@vreg/contracts';
import { describe, expect, it } from 'vitest';
import { loadCatalogConfig } from './config.ts';

const KEY_HEX = 'ab'.repeat(32);
const required = { VREG_ADMIN_TOKEN: 'admin-token-of-20-chars', VREG_SECRET_KEY: KEY_HEX, VREG_S3_BUCKET: 'vreg-blobs' };

describe('loadCatalogConfig', () => {
  it('fills every default, listening on 127.0.0.1:5002', () => {
    const config = loadCatalogConfig(required);
    expect(config).toMatchObject({
      logLevel: 'info',
      nats: { servers: ['nats://127.0.0.1:4222'], namespace: '', replicas: 1 },
      mongo: { url: 'mongodb://127.0.0.1:27017/', dbName: 'vreg' },
      listen: { host: '127.0.0.1', port: 5002 },
      adminToken: 'admin-token-of-20-chars',
      objectsConcurrency: 4,
    });
    expect(config.secretKey).toEqual(Buffer.from(KEY_HEX, 'hex'));
  });

  it('reads every setting from the environment', () => {
    const config = loadCatalogConfig({
      ...required,
      VREG_SECRET_KEY: Buffer.alloc(32, 7).toString('base64'),
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
      logLevel: 'debug',
      nats: { servers: ['nats://a:4222', 'nats://b:4222'], namespace: 'ci-1', replicas: 3 },
      mongo: { url: 'mongodb://mongo:27017/', dbName: 'catalog' },
      listen: { host: '0.0.0.0', port: 8080 },
      objectsConcurrency: 8,
    });
    expect(config.secretKey).toEqual(Buffer.alloc(32, 7));
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

  it('reads previous secret keys for rotation (none by default) and names a malformed one', () => {
    expect(loadCatalogConfig(required).previousSecretKeys).toEqual([]);
    const config = loadCatalogConfig({
      ...required,
      VREG_SECRET_KEY_PREVIOUS: `${'cd'.repeat(32)}, ${Buffer.alloc(32, 9).toString('base64')}`,
    });
    expect(config.previousSecretKeys).toEqual([Buffer.from('cd'.repeat(32), 'hex'), Buffer.alloc(32, 9)]);
    expect(() => loadCatalogConfig({ ...required, VREG_SECRET_KEY_PREVIOUS: `${KEY_HEX},short` })).toThrow(/VREG_SECRET_KEY_PREVIOUS/);
  });

  it('reads the S3 bucket GC deletes from, and GC timings with their defaults (grace 1 h)', () => {
    expect(loadCatalogConfig(required)).toMatchObject({
      s3: { VREG_S3_BUCKET: 'vreg-blobs', VREG_S3_REGION: 'us-east-1', VREG_S3_FORCE_PATH_STYLE: true },
      gc: { graceMs: 3_600_000, intervalMs: 900_000, destructionIntervalMs: 60_000 },
    });
    const set = loadCatalogConfig({
      ...required,
      VREG_S3_ENDPOINT: 'http://minio:9000',
      VREG_GC_GRACE_MS: '0',
      VREG_GC_INTERVAL_MS: '0',
      VREG_DESTRUCTION_INTERVAL_MS: '500',
    });
    expect(set).toMatchObject({
      s3: { VREG_S3_ENDPOINT: 'http://minio:9000' },
      gc: { graceMs: 0, intervalMs: 0, destructionIntervalMs: 500 },
    });
    expect(() => loadCatalogConfig({ ...required, VREG_GC_GRACE_MS: '-1' })).toThrow(/VREG_GC_GRACE_MS/);
    expect(() => loadCatalogConfig({ VREG_ADMIN_TOKEN: 'admin-token-of-20-chars', VREG_SECRET_KEY: KEY_HEX })).toThrow(/VREG_S3_BUCKET/);
  });

  it('refuses a port above 65535', () => {
    expect(() => loadCatalogConfig({ ...required, VREG_LISTEN: '127.0.0.1:70000' })).toThrow(/VREG_LISTEN/);
  });

  it('returns a frozen configuration', () => {
    const config = loadCatalogConfig(required);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.nats)).toBe(true);
  });
});
