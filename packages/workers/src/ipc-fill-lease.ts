import type { FillLease, Lease } from '@vreg/fill-lease';
import type { IpcLink } from './ipc-link.ts';
import { LeaseKinds } from './kinds.ts';

/** Milliseconds a lease call through the primary may take. */
const LEASE_TIMEOUT_MS = 10_000;

/**
 * The `FillLease` of a worker process in embedded mode: the primary holds
 * the one in-process lease table (`serveFillLease` there), so workers elect
 * one filler per object among themselves and the fetcher, as gateway
 * replicas do over NATS KV.
 */
export class IpcFillLease implements FillLease {
  readonly #link: IpcLink;

  constructor(link: IpcLink) {
    this.#link = link;
  }

  async acquire(key: string, ttlMs: number, holder: string): Promise<Lease | undefined> {
    const leaseId = await this.#link.request<number | null>(LeaseKinds.acquire, { key, ttlMs, holder }, LEASE_TIMEOUT_MS);
    if (leaseId === null) return undefined;
    return {
      key,
      renew: () => this.#link.request<boolean>(LeaseKinds.renew, { leaseId }, LEASE_TIMEOUT_MS),
      release: async () => {
        await this.#link.request(LeaseKinds.release, { leaseId }, LEASE_TIMEOUT_MS).catch(() => undefined);
      },
    };
  }

  async holderOf(key: string): Promise<string | undefined> {
    return (await this.#link.request<string | null>(LeaseKinds.holderOf, { key }, LEASE_TIMEOUT_MS)) ?? undefined;
  }
}
