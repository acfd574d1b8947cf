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

/** The blob store (S3 or disk): a metadata read of an object that does not exist. */
export function storeCheck(store: { stat(digest: string, signal?: AbortSignal): Promise<unknown> }, critical = true): ReadinessCheck {
  return { name: 'store', critical, check: (signal) => store.stat(PROBE_DIGEST, signal) };
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
