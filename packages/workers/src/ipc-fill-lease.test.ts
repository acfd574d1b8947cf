import { MemoryFillLease } from '@vreg/fill-lease';
import { describe, expect, it } from 'vitest';
import { serveFillLease } from './fill-lease-host.ts';
import { IpcFillLease } from './ipc-fill-lease.ts';
import { IpcLink } from './ipc-link.ts';
import { endpointPair } from './testing/endpoint-pair.ts';

function workerLeases(table: MemoryFillLease) {
  const { primary, worker } = endpointPair();
  const detach = serveFillLease(new IpcLink(primary), table);
  return { leases: new IpcFillLease(new IpcLink(worker)), detach };
}

describe('IpcFillLease', () => {
  it('elects one filler across workers and the primary, and frees the lease on release', async () => {
    const table = new MemoryFillLease();
    const one = workerLeases(table);
    const two = workerLeases(table);
    const held = await one.leases.acquire('blob/x', 30_000, 'worker-1');
    expect(held).toBeDefined();
    expect(await two.leases.acquire('blob/x', 30_000, 'worker-2')).toBeUndefined();
    expect(await table.acquire('blob/x', 30_000, 'fetcher')).toBeUndefined();
    expect(await two.leases.holderOf('blob/x')).toBe('worker-1');
    expect(await held?.renew()).toBe(true);
    await held?.release();
    expect(await two.leases.holderOf('blob/x')).toBeUndefined();
    expect(await two.leases.acquire('blob/x', 30_000, 'worker-2')).toBeDefined();
    table.clear();
  });

  it("releases a worker's leases when it exits, so another can fill at once", async () => {
    const table = new MemoryFillLease();
    const one = workerLeases(table);
    await one.leases.acquire('blob/y', 30_000, 'worker-1');
    await one.detach();
    expect(await table.holderOf('blob/y')).toBeUndefined();
    table.clear();
  });
});
