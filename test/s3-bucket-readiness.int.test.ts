import { randomBytes } from 'node:crypto';
import { DeleteBucketCommand, HeadBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { dropNamespace } from '../packages/bus/src/testing/nats-test-server.ts';
import { distributedEnv } from './support/distributed-env.ts';
import { type ServiceProcess, startService, stopService } from './support/distributed-under-test.ts';
import { testEnv } from './support/test-env.ts';
import { waitFor } from './support/wait.ts';

/**
 * Distributed start-up against a bucket that does not exist, on the real
 * moto S3, NATS and FerretDB of the test environment: the services must say
 * so (/readyz 503 naming the bucket, and their log), not report ready and
 * then answer every miss 503; with VREG_S3_CREATE_BUCKET=true they create it.
 */
describe('the S3 bucket at start-up', () => {
  const env = testEnv();
  const s3 = new S3Client({
    endpoint: env.s3.endpoint,
    region: env.s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: env.s3.accessKeyId, secretAccessKey: env.s3.secretAccessKey },
  });
  const started: ServiceProcess[] = [];
  const namespaces: string[] = [];
  const buckets: string[] = [];

  /** The env of one vreg whose bucket nobody created. */
  function vregWithoutBucket(): Record<string, string> {
    const id = randomBytes(4).toString('hex');
    namespaces.push(`t${id}`);
    buckets.push(`vreg-missing-${id}`);
    return distributedEnv(env, { namespace: `t${id}`, db: `vreg_${id}`, bucket: `vreg-missing-${id}` });
  }

  async function start(name: 'gateway' | 'catalog', vars: Record<string, string>): Promise<ServiceProcess> {
    const service = await startService(name, vars);
    started.push(service);
    return service;
  }

  const readyz = async (service: ServiceProcess) => {
    const res = await fetch(`${service.url}/readyz`);
    return {
      status: res.status,
      body: (await res.json()) as { status: string; checks: Record<string, { ok: boolean; message?: string }> },
    };
  };

  afterEach(async () => {
    for (const s of started.splice(0)) await stopService(s);
  });
  afterAll(async () => {
    for (const ns of namespaces) await dropNamespace([env.natsUrl], ns);
    for (const bucket of buckets) {
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket })).catch(() => undefined);
      if (listed !== undefined && (listed.Contents ?? []).length === 0) await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    }
    s3.destroy();
  });

  it('keeps the gateway and the catalog unready, naming the bucket in /readyz and in their log', async () => {
    const vars = vregWithoutBucket();
    const bucket = vars.VREG_S3_BUCKET as string;
    for (const [name, check] of [
      ['gateway', 'store'],
      ['catalog', 'bucket'],
    ] as const) {
      const service = await start(name, vars);
      const { status, body } = await readyz(service);
      expect(status, `${name} /readyz`).toBe(503);
      expect(body.status).toBe('unready');
      expect(body.checks[check]).toMatchObject({ ok: false, message: expect.stringContaining(`S3 bucket ${bucket} does not exist`) });
      expect(body.checks[check]?.message).toContain('VREG_S3_CREATE_BUCKET=true');
      await waitFor(`${name} to log why it is not ready`, async () =>
        service.fullOutput().includes(`S3 bucket ${bucket} does not exist`) ? true : undefined,
      );
    }
    // Nothing was created behind the operator's back.
    await expect(s3.send(new HeadBucketCommand({ Bucket: bucket }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
  });

  it('creates the bucket at start-up with VREG_S3_CREATE_BUCKET=true, and is ready', async () => {
    const vars: Record<string, string> = { ...vregWithoutBucket(), VREG_S3_CREATE_BUCKET: 'true' };
    const bucket = vars.VREG_S3_BUCKET as string;
    const gateway = await start('gateway', vars);
    const { status, body } = await readyz(gateway);
    expect(status).toBe(200);
    // Degraded at most: no catalog runs in this test, and only the store decides the gateway's readiness.
    expect(body).toMatchObject({ status: expect.stringMatching(/^(ready|degraded)$/), checks: { store: { ok: true } } });
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    // The readiness probe cleans up after itself: nothing is left in the bucket.
    expect((await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).toEqual([]);
  });
});
