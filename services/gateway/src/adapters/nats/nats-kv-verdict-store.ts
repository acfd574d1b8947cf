import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import type { PassRecord, VerdictStore } from '@vreg/policy';

/** Bucket name without namespace. */
export const verdictBucket = 'VREG_POLICY_VERDICTS';

/** Verdicts expire after this long unrefreshed: a verdict is re-derived from cached signatures in milliseconds, so keeping it forever buys nothing. */
const VERDICT_MAX_AGE_MS = 30 * 24 * 3_600_000;

/**
 * Signature verdicts in a NATS KV bucket (history 1), shared by every
 * gateway: one key per (key-set fingerprint, digest). An index's verdict
 * writes its platform manifests' keys before the index is served, so the
 * client's next request, on any replica, reads them (KV reads after a
 * completed write see it).
 */
export class NatsKvVerdictStore implements VerdictStore {
  readonly #kv: KV;

  private constructor(kv: KV) {
    this.#kv = kv;
  }

  /** Creates the bucket if needed and opens it on `connection` (the bus's). */
  static async create(connection: NatsConnection, options: { namespace: string; replicas?: number }): Promise<NatsKvVerdictStore> {
    if (!/^[A-Za-z0-9_-]*$/.test(options.namespace)) throw new TypeError(`invalid namespace ${JSON.stringify(options.namespace)}`);
    const bucket = options.namespace === '' ? verdictBucket : `${options.namespace}_${verdictBucket}`;
    const kv = await new Kvm(connection).create(bucket, { history: 1, replicas: options.replicas ?? 1, ttl: VERDICT_MAX_AGE_MS });
    return new NatsKvVerdictStore(kv);
  }

  async get(fingerprint: string, digest: string): Promise<PassRecord | undefined> {
    const entry = await this.#kv.get(keyOf(fingerprint, digest));
    if (entry === null || entry.operation !== 'PUT' || entry.value.length === 0) return undefined;
    return entry.json<PassRecord>();
  }

  async put(fingerprint: string, digest: string, record: PassRecord): Promise<void> {
    await this.#kv.put(keyOf(fingerprint, digest), JSON.stringify(record));
  }
}

/** `<fingerprint>.<alg>_<hex>`: KV keys allow letters, digits, `-_/=.` only. */
function keyOf(fingerprint: string, digest: string): string {
  return `${fingerprint}.${digest.replace(':', '_')}`;
}
