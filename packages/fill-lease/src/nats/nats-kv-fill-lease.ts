import { createHash, randomUUID } from 'node:crypto';
import type { JetStreamClient } from '@nats-io/jetstream';
import { JetStreamApiCodes, JetStreamApiError, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { nanos } from '@nats-io/nats-core';
import { FillLeaseUnavailableError } from '../errors.ts';
import type { FillLease, Lease } from '../fill-lease.ts';

/** How keys expire. */
export type FillLeaseExpiry = 'per-key' | 'bucket';

/** Options of `NatsKvFillLease.create`. */
export interface NatsKvFillLeaseOptions {
  /** Prefix of the bucket name (`<ns>_VREG_FILL_LEASES`); '' for none. */
  namespace: string;
  /** Replicas of the bucket (1, or 3 on a cluster). Default 1. */
  replicas?: number;
  /**
   * Milliseconds every lease lives in `'bucket'` expiry (the bucket's
   * max_age); the TTL passed to `acquire` is then ignored. Default 30000.
   */
  ttlMs?: number;
  /**
   * `'per-key'`: each key expires by the TTL given to `acquire` (per-message
   * TTL, nats-server 2.11+). `'bucket'`: every key expires `ttlMs` after its
   * last write (any server). Default: `'per-key'` when the server supports
   * it, else `'bucket'`. One bucket, one mode.
   */
  expiry?: FillLeaseExpiry;
}

/** Bucket name without namespace. */
export const fillLeaseBucket = 'VREG_FILL_LEASES';
/** Seconds the server keeps the marker it writes when a lease expires (and our release markers). */
const markerTtlSeconds = 5;

/**
 * `FillLease` on a NATS KV bucket (history 1), one key per object:
 *
 * - acquire = `kv.create(key, value, ttl)`: create-only, so of N concurrent
 *   acquirers exactly one wins; the value is the holder id and a token of
 *   this acquisition (JSON), so the holder knows its own key when an answer
 *   was lost in transit.
 * - expiry = per-message TTL (`Nats-TTL`, nats-server 2.11+; the bucket has
 *   `allow_msg_ttl`). The server counts whole seconds: `ttlMs` is rounded up
 *   to the next second (minimum 1 s), and removal lags the deadline by up to
 *   about a second. On expiry the server writes a delete marker, which a
 *   later `create` accepts.
 * - renew = a publish of the same value expecting the revision we hold and
 *   carrying a fresh TTL (`kv.update` cannot set a TTL). A different
 *   revision that still holds our value is ours (an earlier renewal whose
 *   answer we missed): kept, renewed from there. False only when the server
 *   no longer holds our value: it expired there or changed hands. Late
 *   renewals are judged by the server, never by the local clock.
 * - release = a purge expecting the revision that holds our value, whose
 *   marker itself expires.
 *
 * Servers before 2.11 lack per-message TTL: there (or with `expiry:
 * 'bucket'`) every key expires `ttlMs` after its last write, the bucket's
 * max_age, and the TTL given to `acquire` is ignored; renew still restarts
 * the clock because it writes a new revision.
 *
 * Keys are arbitrary strings: each is stored under its sha256 hex, which
 * fits KV's key alphabet.
 */
export class NatsKvFillLease implements FillLease {
  readonly #kv: KV;
  readonly #js: JetStreamClient;
  readonly #subjectPrefix: string;
  readonly #perKey: boolean;

  private constructor(kv: KV, js: JetStreamClient, bucket: string, expiry: FillLeaseExpiry) {
    this.#kv = kv;
    this.#js = js;
    this.#subjectPrefix = `$KV.${bucket}.`;
    this.#perKey = expiry === 'per-key';
  }

  /**
   * Creates the bucket if needed and opens it on `connection` (share the
   * bus's: `NatsEventBus.connection`). Throws `FillLeaseUnavailableError`.
   */
  static async create(connection: NatsConnection, options: NatsKvFillLeaseOptions): Promise<NatsKvFillLease> {
    if (!/^[A-Za-z0-9_-]*$/.test(options.namespace)) throw new TypeError(`invalid namespace ${JSON.stringify(options.namespace)}`);
    const bucket = options.namespace === '' ? fillLeaseBucket : `${options.namespace}_${fillLeaseBucket}`;
    const expiry = options.expiry ?? (supportsMessageTtl(connection) ? 'per-key' : 'bucket');
    if (expiry === 'per-key' && !supportsMessageTtl(connection)) {
      throw new FillLeaseUnavailableError(
        `per-key lease expiry needs nats-server 2.11+, server is ${connection.info?.version ?? 'unknown'}`,
      );
    }
    const bucketTtlMs = options.ttlMs ?? 30_000;
    try {
      const kvm = new Kvm(connection);
      const replicas = options.replicas ?? 1;
      const kv =
        expiry === 'per-key'
          ? await kvm.create(bucket, { history: 1, replicas, markerTTL: markerTtlSeconds * 1000 })
          : await kvm.create(bucket, { history: 1, replicas, ttl: bucketTtlMs });
      await alignBucket(connection, kv, expiry, bucketTtlMs);
      return new NatsKvFillLease(kv, jetstream(connection), bucket, expiry);
    } catch (err) {
      throw new FillLeaseUnavailableError(`cannot open KV bucket ${bucket}`, err);
    }
  }

  /** Takes the lease unless someone holds it. Throws `FillLeaseUnavailableError` when NATS cannot answer. */
  async acquire(key: string, ttlMs: number, holder: string): Promise<Lease | undefined> {
    const kvKey = encodeKey(key);
    const ttl = this.#perKey ? ttlHeader(ttlMs) : undefined;
    // The value names this one acquisition, so an answer lost in transit can be told apart from another holder.
    const value = JSON.stringify({ holder, token: randomUUID() });
    let revision: number;
    try {
      revision = await this.#kv.create(kvKey, value, ttl);
    } catch (err) {
      if (isWrongRevision(err)) return undefined;
      // A create whose answer was lost (a timeout on a slow machine) may have landed all the same.
      const landed = await this.#revisionHeldBy(kvKey, value).catch(() => undefined);
      if (landed === undefined) throw new FillLeaseUnavailableError(`cannot acquire the fill lease on ${key}`, err);
      revision = landed;
    }
    const publishRenewal = async (): Promise<number> =>
      (
        await this.#js.publish(this.#subjectPrefix + kvKey, value, {
          expect: { lastSubjectSequence: revision },
          ...(ttl === undefined ? {} : { ttl }),
        })
      ).seq;
    return {
      key,
      // Throws FillLeaseUnavailableError when NATS cannot answer: the caller cannot know it still holds the lease.
      renew: async () => {
        try {
          try {
            revision = await publishRenewal();
            return true;
          } catch (err) {
            if (!isWrongRevision(err)) throw err;
          }
          // Our revision is stale, yet the lease may still be ours: an earlier renewal landed but
          // its answer never reached us, or another renewal of ours overlapped this one. Lost only
          // when the server holds no value of ours any more; while it does, the lease is kept, and
          // freshly renewed when no other renewal of ours moves the revision on meanwhile.
          const current = await this.#revisionHeldBy(kvKey, value);
          if (current === undefined) return false;
          revision = current;
          try {
            revision = await publishRenewal();
          } catch (err) {
            if (!isWrongRevision(err)) throw err;
            const again = await this.#revisionHeldBy(kvKey, value);
            if (again === undefined) return false;
            revision = again;
          }
          return true;
        } catch (err) {
          if (isWrongRevision(err)) return false;
          throw new FillLeaseUnavailableError(`cannot renew the fill lease on ${key}`, err);
        }
      },
      release: async () => {
        const purge = (previousSeq: number): Promise<void> =>
          this.#kv.purge(kvKey, { previousSeq, ...(this.#perKey ? { ttl: `${markerTtlSeconds}s` } : {}) });
        try {
          try {
            await purge(revision);
            return;
          } catch (err) {
            if (!isWrongRevision(err)) throw err;
          }
          // A renewal we missed the answer of moved the revision on: purge that one if it is still ours.
          const current = await this.#revisionHeldBy(kvKey, value);
          if (current !== undefined) await purge(current);
        } catch {
          // Lost already, or NATS is away: the lease then expires by its TTL.
        }
      },
    };
  }

  /** The holder id stored under `key`, if the lease is held. Throws `FillLeaseUnavailableError`. */
  async holderOf(key: string): Promise<string | undefined> {
    try {
      const entry = await this.#kv.get(encodeKey(key));
      return entry && entry.operation === 'PUT' ? holderIn(entry.string()) : undefined;
    } catch (err) {
      throw new FillLeaseUnavailableError(`cannot read the fill lease on ${key}`, err);
    }
  }

  /** The revision of `kvKey` when the server holds `value` there (ours, unexpired), else undefined. */
  async #revisionHeldBy(kvKey: string, value: string): Promise<number | undefined> {
    const entry = await this.#kv.get(kvKey);
    return entry && entry.operation === 'PUT' && entry.string() === value ? entry.revision : undefined;
  }
}

/** The holder id in a lease value (a bare id from an older writer is its own holder). */
function holderIn(value: string): string {
  try {
    const parsed = JSON.parse(value) as { holder?: unknown };
    if (typeof parsed.holder === 'string') return parsed.holder;
  } catch {
    // Not JSON: a value written before values named their acquisition.
  }
  return value;
}

/** The KV key for an arbitrary lease key: sha256 hex, inside KV's `[-/_=.a-zA-Z0-9]`. */
export function encodeKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** `Nats-TTL` value: whole seconds, rounded up, at least 1 (the server's minimum). */
export function ttlHeader(ttlMs: number): string {
  return `${Math.max(1, Math.ceil(ttlMs / 1000))}s`;
}

function isWrongRevision(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamWrongLastSequence || err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

function supportsMessageTtl(nc: NatsConnection): boolean {
  const [major = 0, minor = 0] = (nc.info?.version ?? '0.0.0').split('.').map(Number);
  return major > 2 || (major === 2 && minor >= 11);
}

// `kvm.create` opens an existing bucket as it is. Per-key expiry needs
// allow_msg_ttl (it can be switched on in place, never off); bucket expiry
// needs max_age = ttlMs.
async function alignBucket(nc: NatsConnection, kv: KV, expiry: FillLeaseExpiry, bucketTtlMs: number): Promise<void> {
  const { config } = (await kv.status()).streamInfo;
  const jsm = await jetstreamManager(nc);
  if (expiry === 'per-key' && config.allow_msg_ttl !== true) {
    await jsm.streams.update(config.name, { allow_msg_ttl: true, subject_delete_marker_ttl: nanos(markerTtlSeconds * 1000) });
  }
  if (expiry === 'bucket' && config.max_age !== nanos(bucketTtlMs)) {
    await jsm.streams.update(config.name, { max_age: nanos(bucketTtlMs) });
  }
}
