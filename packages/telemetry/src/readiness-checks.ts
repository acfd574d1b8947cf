import { ErrorCodes, hasCode, RegistryViewSchema, Subjects } from '@vreg/contracts';
import type { ZodType } from 'zod';
import type { ReadinessCheck } from './readiness.ts';

/** A digest no one stores: asking for it proves the store answers, whatever it holds. */
const PROBE_DIGEST = `sha256:${'0'.repeat(64)}`;

/** NATS: a round trip to the server (a flush), so a connection stuck reconnecting fails. */
export function natsCheck(connection: { flush(): Promise<void>; isClosed(): boolean }, critical = true): ReadinessCheck {
  return {
    name: 'nats',
    critical,
    check: async () => {
      if (connection.isClosed()) throw new Error('connection closed');
      await connection.flush();
    },
  };
}

/** What storeCheck needs of a blob store. */
export interface ProbedStore {
  stat(digest: string, signal?: AbortSignal): Promise<unknown>;
  /** Proves a write goes through (S3: the bucket exists and takes writes); see BlobStore.probeWritable. */
  probeWritable?(signal?: AbortSignal): Promise<void>;
}

/** How long a write probe's success stands: /readyz is asked every few seconds, and each probe is two S3 requests. */
export const WRITE_PROBE_TTL_MS = 15_000;
/** How long a failed write probe's answer stands: short, so a bucket created meanwhile is seen at once. */
export const WRITE_PROBE_FAILURE_TTL_MS = 1_000;
/** A probe's own deadline; past /readyz's 2 s per check the check fails, and the late answer still updates the cache. */
const WRITE_PROBE_TIMEOUT_MS = 10_000;

/**
 * The blob store: S3 must take a write (a missing bucket answers reads of
 * absent objects like any absent object, so only a write finds it), proved
 * at most every 15 s with a small put and delete, concurrent checks sharing
 * one probe. A store without `probeWritable` (the disk of embedded mode) gets
 * a metadata read of an object that does not exist.
 */
export function storeCheck(store: ProbedStore, critical = true, now: () => number = Date.now): ReadinessCheck {
  const probe = store.probeWritable?.bind(store);
  if (probe === undefined) return { name: 'store', critical, check: (signal) => store.stat(PROBE_DIGEST, signal) };
  let last: { at: number; error: unknown } | undefined;
  let running: Promise<void> | undefined;
  const run = (): Promise<void> =>
    (running ??= probe(AbortSignal.timeout(WRITE_PROBE_TIMEOUT_MS))
      .then(
        () => void (last = { at: now(), error: undefined }),
        (err: unknown) => {
          last = { at: now(), error: err };
        },
      )
      .finally(() => {
        running = undefined;
      }));
  return {
    name: 'store',
    critical,
    check: async () => {
      const fresh = last !== undefined && now() - last.at < (last.error === undefined ? WRITE_PROBE_TTL_MS : WRITE_PROBE_FAILURE_TTL_MS);
      if (!fresh) await run();
      if (last?.error !== undefined) throw last.error;
    },
  };
}

/**
 * The catalog answers requests: any reply counts, "no such registry"
 * included; only no reply in time (no responder, NATS down) fails.
 */
export function catalogCheck(
  bus: { request<T>(subject: string, payload: unknown, options: { schema: ZodType<T>; timeoutMs?: number }): Promise<T> },
  critical = true,
): ReadinessCheck {
  return {
    name: 'catalog',
    critical,
    check: async () => {
      try {
        await bus.request(Subjects.registryResolve, { registryId: '0' }, { schema: RegistryViewSchema, timeoutMs: 1_500 });
      } catch (err) {
        if (hasCode(err, ErrorCodes.catalogUnavailable)) throw err;
      }
    },
  };
}
