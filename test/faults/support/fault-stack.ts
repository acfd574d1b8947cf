import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { AdminClient } from '../../support/admin-client.ts';
import { distributedEnv } from '../../support/distributed-env.ts';
import { type ServiceProcess, startService, stopService } from '../../support/distributed-under-test.ts';
import { CacheAudit } from './cache-audit.ts';
import { PrivateServer, TcpGate } from './private-servers.ts';

export type ServiceName = 'gateway' | 'fetcher' | 'catalog';

/**
 * vreg in distributed mode on servers of its own: a private nats-server
 * (JetStream on disk), FerretDB (SQLite on disk) and moto behind a TCP gate,
 * plus catalog, fetcher and gateway processes. Any of them can be killed and
 * started again; nothing here touches the shared test servers.
 */
export class FaultStack {
  readonly services = new Map<ServiceName, ServiceProcess>();
  readonly audit: CacheAudit;
  /** Every process started, so `stop()` leaves none behind (spares included). */
  readonly #spawned = new Set<ServiceProcess>();
  admin!: AdminClient;

  private constructor(
    readonly nats: PrivateServer & { url: string },
    readonly mongo: PrivateServer & { url: string },
    readonly moto: PrivateServer & { url: string },
    readonly s3Gate: TcpGate,
    readonly env: Record<string, string>,
    readonly serviceEnv: Partial<Record<ServiceName, Record<string, string>>>,
  ) {
    this.audit = new CacheAudit({ mongoUrl: mongo.url, db: env.VREG_MONGO_DB!, s3Endpoint: moto.url, bucket: env.VREG_S3_BUCKET! });
  }

  /** Starts the servers and the three services; `serviceEnv` adds settings per service. */
  static async start(serviceEnv: Partial<Record<ServiceName, Record<string, string>>> = {}): Promise<FaultStack> {
    const [nats, mongo, moto] = await Promise.all([PrivateServer.nats(), PrivateServer.ferretdb(), PrivateServer.moto()]);
    await Promise.all([nats.start(), mongo.start(), moto.start()]);
    const s3Gate = new TcpGate(Number(new URL(moto.url).port));
    await s3Gate.open();
    const id = randomBytes(4).toString('hex');
    const bucket = `vreg-faults-${id}`;
    const s3 = new S3Client({
      endpoint: moto.url,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    s3.destroy();
    const env = distributedEnv(
      {
        natsUrl: nats.url,
        mongoUrl: mongo.url,
        s3: { endpoint: s3Gate.url, region: 'us-east-1', accessKeyId: 'test', secretAccessKey: 'test' },
      },
      { namespace: `f${id}`, db: `vreg_faults_${id}`, bucket },
    );
    const stack = new FaultStack(nats, mongo, moto, s3Gate, env, serviceEnv);
    try {
      for (const name of ['catalog', 'fetcher', 'gateway'] as const) await stack.startService(name);
    } catch (err) {
      await stack.stop();
      throw err;
    }
    return stack;
  }

  service(name: ServiceName): ServiceProcess {
    const s = this.services.get(name);
    if (!s) throw new Error(`${name} is not running`);
    return s;
  }

  get gatewayUrl(): string {
    return this.service('gateway').url;
  }

  async startService(name: ServiceName): Promise<ServiceProcess> {
    return this.use(name, await this.spawn(name));
  }

  /** Starts another process of `name` beside the running one (to have it ready before a kill). */
  async spawn(name: ServiceName): Promise<ServiceProcess> {
    const s = await startService(name, { ...this.env, ...this.serviceEnv[name] });
    this.#spawned.add(s);
    return s;
  }

  /** Makes a spawned process the one `service(name)` and `kill(name)` act on. */
  use(name: ServiceName, s: ServiceProcess): ServiceProcess {
    this.services.set(name, s);
    if (name === 'catalog') this.admin = new AdminClient(s.url, this.env.VREG_ADMIN_TOKEN!);
    return s;
  }

  /** kill -9 of a service process; it stays down until `startService`. */
  async kill(name: ServiceName): Promise<void> {
    await stopService(this.service(name), 'SIGKILL');
    this.services.delete(name);
  }

  /** A registry with one upstream at `url`; returns both ids. */
  async registryWith(name: string, url: string): Promise<{ registryId: string; upstreamId: string }> {
    const registryId = (await this.admin.createRegistry(name)).id;
    const upstreamId = (await this.admin.addUpstream(registryId, { name: `${name}-up`, url })).id;
    return { registryId, upstreamId };
  }

  blobUrl(registryId: string, digest: string, image = 'faults/blob'): string {
    return `${this.gatewayUrl}/v2/virtual_registries/containers/${registryId}/${image}/blobs/${digest}`;
  }

  /** Output of every service, for a failed assertion's message. */
  outputs(): string {
    return [...this.services.values()].map((s) => `--- ${s.name}\n${s.output().slice(-3000)}`).join('\n');
  }

  async stop(): Promise<void> {
    for (const s of this.#spawned) await stopService(s, 'SIGKILL');
    this.services.clear();
    await this.audit.close();
    await this.s3Gate.close();
    await Promise.all([this.nats.destroy(), this.mongo.destroy(), this.moto.destroy()]);
  }
}
