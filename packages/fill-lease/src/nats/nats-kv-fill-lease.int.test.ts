import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { acquireNatsTestServer, dropNamespace, randomNamespace } from '@vreg/bus/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FillLeaseFixture } from '../testing/describe-fill-lease.ts';
import { describeFillLease } from '../testing/describe-fill-lease.ts';
import type { FillLeaseExpiry } from './nats-kv-fill-lease.ts';
import { fillLeaseBucket, NatsKvFillLease } from './nats-kv-fill-lease.ts';

let servers: string[] = [];
let release: () => Promise<void> = async () => undefined;

beforeAll(async () => {
  ({ servers, release } = await acquireNatsTestServer());
});
afterAll(async () => {
  await release();
});

async function openLeases(expiry: FillLeaseExpiry): Promise<FillLeaseFixture> {
  const namespace = randomNamespace();
  const connection = await connect({ servers });
  const lease = await NatsKvFillLease.create(connection, { namespace, expiry, ttlMs: 1000 });
  return {
    lease,
    cleanup: async () => {
      await connection.close();
      await dropNamespace(servers, namespace);
    },
  };
}

// NATS counts TTLs in whole seconds and removes expired keys up to ~1 s late.
describeFillLease('nats kv, per-key TTL', () => openLeases('per-key'), { ttlMs: 1000, expirySlackMs: 4000 });

// The fallback for servers without per-message TTL: max_age (1 s here) for every key.
describeFillLease('nats kv, bucket max_age', () => openLeases('bucket'), { ttlMs: 1000, expirySlackMs: 4000 });

describe('NatsKvFillLease', () => {
  it('turns per-message TTL on in a bucket created without it', async () => {
    const namespace = randomNamespace();
    const connection = await connect({ servers });
    try {
      await new Kvm(connection).create(`${namespace}_${fillLeaseBucket}`, { history: 1 });
      const leases = await NatsKvFillLease.create(connection, { namespace });
      expect(await leases.acquire('k', 1000, 'a')).toBeDefined();
      const deadline = Date.now() + 5000;
      while ((await leases.holderOf('k')) !== undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(await leases.holderOf('k')).toBeUndefined();
    } finally {
      await connection.close();
      await dropNamespace(servers, namespace);
    }
  });
});
