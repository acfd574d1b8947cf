import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpUpstreamRegistry } from './http-upstream-registry.ts';
import { type FakeHttpServer, startFakeHttpServer } from './testing/fake-http-server.ts';
import { type HostResolver, UpstreamAddressBlockedError, UpstreamAddressPolicy } from './upstream-address-policy.ts';

const DIGEST = `sha256:${'a'.repeat(64)}`;

const resolvesTo =
  (table: Record<string, string[]>): HostResolver =>
  async (host) => {
    const addresses = table[host];
    if (addresses === undefined) throw Object.assign(new Error(`ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };

describe('UpstreamAddressPolicy', () => {
  const strict = new UpstreamAddressPolicy();

  it.each([
    '127.0.0.1',
    '127.255.0.9',
    '::1',
    '0.0.0.0',
    '::',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '169.254.0.1',
    'fe80::1',
    'fd00::1',
    'fc00::1',
    '100.64.0.1',
    '224.0.0.1',
    'ff02::1',
    '255.255.255.255',
    '::ffff:127.0.0.1',
    '::ffff:169.254.169.254',
    '::ffff:a00:1',
    '[::1]',
    '64:ff9b::7f00:1',
    '2001:0:4136:e378:8000:63bf:3fff:fdd2',
    '2002:7f00:1::1',
  ])('refuses the internal address %s by default', (address) => {
    expect(strict.isAddressAllowed(address)).toBe(false);
  });

  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])(
    'allows the public address %s',
    (address) => {
      expect(strict.isAddressAllowed(address)).toBe(true);
    },
  );

  it('allows what the list names: addresses, CIDRs, host names and suffixes', () => {
    const policy = UpstreamAddressPolicy.fromList(' 127.0.0.1 , 10.0.0.0/8,fd00::/8, registry.internal, *.corp.example');
    expect(policy.isAddressAllowed('127.0.0.1')).toBe(true);
    expect(policy.isAddressAllowed('127.0.0.2')).toBe(false);
    expect(policy.isAddressAllowed('10.200.0.1')).toBe(true);
    expect(policy.isAddressAllowed('fd12::1')).toBe(true);
    expect(policy.isAddressAllowed('192.168.0.1')).toBe(false);
    expect(policy.isHostAllowed('Registry.Internal')).toBe(true);
    expect(policy.isHostAllowed('hub.corp.example')).toBe(true);
    expect(policy.isHostAllowed('corp.example.evil')).toBe(false);
  });

  it('rejects malformed allow-list entries', () => {
    for (const entry of ['10.0.0.0/33', 'fd00::/129', 'not a host', '10.0.0.0/x', '*.']) {
      expect(UpstreamAddressPolicy.isValidEntry(entry), entry).toBe(false);
    }
    expect(UpstreamAddressPolicy.isValidEntry('192.168.0.0/16')).toBe(true);
  });

  it('checks every address a host name resolves to', async () => {
    const policy = new UpstreamAddressPolicy(
      [],
      resolvesTo({ 'public.example': ['8.8.8.8'], 'mixed.example': ['8.8.8.8', '10.0.0.7'], 'meta.example': ['169.254.169.254'] }),
    );
    await expect(policy.checkHost('public.example')).resolves.toBeUndefined();
    await expect(policy.checkHost('mixed.example')).rejects.toMatchObject({ code: 'UPSTREAM_ADDRESS_BLOCKED', address: '10.0.0.7' });
    await expect(policy.checkHost('meta.example')).rejects.toBeInstanceOf(UpstreamAddressBlockedError);
    await expect(policy.checkHost('[::1]')).rejects.toMatchObject({ address: '::1' });
  });

  it('fails the connection lookup of a name that resolves to loopback', async () => {
    const failure = await new Promise<unknown>((resolve) => strict.lookup('localhost', { all: true }, (err) => resolve(err)));
    expect(failure).toMatchObject({ code: 'UPSTREAM_ADDRESS_BLOCKED' });
  });
});

describe('HttpUpstreamRegistry behind the address policy', () => {
  let upstream: FakeHttpServer | undefined;
  let other: Server | undefined;
  let client: HttpUpstreamRegistry | undefined;
  afterEach(async () => {
    await client?.close();
    await upstream?.close();
    if (other) await new Promise((r) => other!.close(r));
  });

  it('never connects to a loopback upstream by default, by address or by name', async () => {
    upstream = await startFakeHttpServer((_req, res) => res.writeHead(200).end('{}'));
    client = new HttpUpstreamRegistry();
    const port = new URL(upstream.url).port;
    for (const url of [upstream.url, `http://localhost:${port}`, `http://[::ffff:127.0.0.1]:${port}`, `http://2130706433:${port}`]) {
      await expect(client.headBlob({ url }, 'library/alpine', DIGEST)).rejects.toMatchObject({
        code: 'UPSTREAM_UNAVAILABLE',
        message: expect.stringContaining('VREG_UPSTREAM_ALLOWED_NETWORKS'),
      });
    }
    expect(upstream.requests).toHaveLength(0);
    const ping = await client.ping({ url: upstream.url });
    expect(ping).toMatchObject({ result: 'unreachable', message: expect.stringContaining('internal address') });
  });

  it('checks every redirect hop: an allowed upstream cannot bounce the request to an internal address', async () => {
    let hits = 0;
    other = createServer((_req, res) => {
      hits++;
      res.writeHead(200).end('secret');
    });
    await new Promise<void>((r) => other!.listen(0, '127.0.0.2', r));
    const target = `http://127.0.0.2:${(other.address() as AddressInfo).port}/latest/meta-data`;
    upstream = await startFakeHttpServer((_req, res) => res.writeHead(307, { location: target }).end());
    client = new HttpUpstreamRegistry({ addressPolicy: new UpstreamAddressPolicy(['127.0.0.1']) });
    await expect(client.getBlob({ url: upstream.url }, 'library/alpine', DIGEST)).rejects.toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
      message: expect.stringContaining('127.0.0.2'),
    });
    expect(upstream.requests).toHaveLength(1);
    expect(hits).toBe(0);
  });
});
