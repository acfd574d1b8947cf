import type { FillLease, Lease } from '@vreg/fill-lease';
import type { IpcLink } from './ipc-link.ts';
import { LeaseKinds } from './kinds.ts';

/**
 * The primary's side of `IpcFillLease`: a worker's leases live in `leases`
 * (the table the fetcher uses too). Returns the cleanup to run when the
 * worker exits: its leases are released at once, so the fetcher or another
 * worker can take a dead worker's fills over without waiting out the TTL.
 */
export function serveFillLease(link: IpcLink, leases: FillLease): () => Promise<void> {
  const held = new Map<number, Lease>();
  let nextId = 1;
  link.handle(LeaseKinds.acquire, async (body) => {
    const { key, ttlMs, holder } = body as { key: string; ttlMs: number; holder: string };
    const lease = await leases.acquire(key, ttlMs, holder);
    if (!lease) return null;
    const id = nextId++;
    held.set(id, lease);
    return id;
  });
  link.handle(LeaseKinds.renew, async (body) => {
    const lease = held.get((body as { leaseId: number }).leaseId);
    return lease ? lease.renew() : false;
  });
  link.handle(LeaseKinds.release, async (body) => {
    const { leaseId } = body as { leaseId: number };
    const lease = held.get(leaseId);
    held.delete(leaseId);
    await lease?.release();
    return null;
  });
  link.handle(LeaseKinds.holderOf, async (body) => (await leases.holderOf((body as { key: string }).key)) ?? null);
  return async () => {
    const all = [...held.values()];
    held.clear();
    await Promise.all(all.map((l) => l.release()));
  };
}
