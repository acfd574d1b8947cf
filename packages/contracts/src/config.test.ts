import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  decodeKey,
  decodeKeys,
  intFrom,
  isUpstreamAllowListEntry,
  parseEnv,
  parseKey,
  SecretsEnv,
  splitList,
  UpstreamEnv,
} from './config.ts';

const HEX = 'ab'.repeat(32);
const B64 = Buffer.alloc(32, 5).toString('base64');

describe('SecretsEnv', () => {
  it('takes no previous keys by default', () => {
    expect(parseEnv(SecretsEnv, { VREG_SECRET_KEY: HEX }).VREG_SECRET_KEY_PREVIOUS).toBeUndefined();
    expect(decodeKeys(undefined)).toEqual([]);
  });

  it('reads comma-separated previous keys in hex or base64, spaces and empty items ignored', () => {
    const env = parseEnv(SecretsEnv, { VREG_SECRET_KEY: HEX, VREG_SECRET_KEY_PREVIOUS: ` ${B64} ,${'cd'.repeat(32)},` });
    expect(decodeKeys(env.VREG_SECRET_KEY_PREVIOUS)).toEqual([Buffer.alloc(32, 5), Buffer.from('cd'.repeat(32), 'hex')]);
  });

  it('refuses a previous key that is not 32 bytes, naming the variable', () => {
    expect(() => parseEnv(SecretsEnv, { VREG_SECRET_KEY: HEX, VREG_SECRET_KEY_PREVIOUS: `${HEX},abc` })).toThrow(
      /VREG_SECRET_KEY_PREVIOUS: must be comma-separated keys/,
    );
  });
});

describe('parseKey (every 32-byte key setting: secrets and token signing keys)', () => {
  const key = randomBytes(32);

  it('reads 64 hex chars, base64 with or without its padding, and base64url, spaces around ignored', () => {
    for (const written of [
      key.toString('hex'),
      key.toString('hex').toUpperCase(),
      key.toString('base64'),
      key.toString('base64url'),
      ` ${key.toString('base64')} `,
    ]) {
      expect(parseKey(written)).toEqual(key);
    }
  });

  it("refuses what Node's lenient base64 decoder would have read as some other 32 bytes", () => {
    const b64 = key.toString('base64');
    expect(parseKey(`${b64.slice(0, 20)}!${b64.slice(20)}`)).toBeUndefined(); // a stray character
    expect(parseKey(`${b64.slice(0, 20)} ${b64.slice(20)}`)).toBeUndefined(); // a space inside
    expect(parseKey(randomBytes(31).toString('base64'))).toBeUndefined();
    expect(parseKey(randomBytes(33).toString('hex'))).toBeUndefined();
    expect(parseKey('')).toBeUndefined();
  });

  it('is what the settings check: a key parseKey refuses fails the config, naming the variable', () => {
    const bad = `${key.toString('base64').slice(0, 20)}!${key.toString('base64').slice(20)}`;
    expect(() => parseEnv(SecretsEnv, { VREG_SECRET_KEY: bad })).toThrow(/VREG_SECRET_KEY: must be 32 bytes/);
    expect(() => decodeKey(bad)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});

describe('splitList and intFrom', () => {
  it('splits on commas, trims, and drops blank entries', () => {
    expect(splitList(' a, b ,,c, ')).toEqual(['a', 'b', 'c']);
    expect(splitList(undefined)).toEqual([]);
    expect(splitList('')).toEqual([]);
  });

  it('takes whole numbers within the bounds only', () => {
    const n = intFrom(1, 10);
    expect(n.parse('10')).toBe(10);
    for (const bad of ['0', '11', '1.5', 'ten']) expect(n.safeParse(bad).success).toBe(false);
  });
});

describe('VREG_UPSTREAM_ALLOWED_NETWORKS', () => {
  const longHost = Array.from({ length: 5 }, () => 'a'.repeat(60)).join('.'); // 304 characters of valid labels

  it('accepts CIDRs, addresses, host names and *.suffixes', () => {
    const list = '10.0.0.0/8, fd00::/8, 127.0.0.1, [::1], registry.internal, *.corp.example';
    expect(parseEnv(UpstreamEnv, { VREG_UPSTREAM_ALLOWED_NETWORKS: list }).VREG_UPSTREAM_ALLOWED_NETWORKS).toBe(list);
  });

  it('refuses a host name longer than DNS allows, which the address policy would refuse at start-up', () => {
    expect(isUpstreamAllowListEntry(longHost)).toBe(false);
    expect(isUpstreamAllowListEntry(`*.${longHost}`)).toBe(false);
    expect(() => parseEnv(UpstreamEnv, { VREG_UPSTREAM_ALLOWED_NETWORKS: longHost })).toThrow(/VREG_UPSTREAM_ALLOWED_NETWORKS/);
  });
});

describe('the bounds on what an upstream may make a process download', () => {
  it('caps a blob at 10 GiB and an upstream at 32 running fills by default, and lets an operator raise, lower or lift both', () => {
    expect(parseEnv(UpstreamEnv, {})).toMatchObject({ VREG_UPSTREAM_MAX_BLOB_BYTES: 10 * 2 ** 30, VREG_UPSTREAM_MAX_CONCURRENT_FILLS: 32 });
    expect(
      parseEnv(UpstreamEnv, { VREG_UPSTREAM_MAX_BLOB_BYTES: String(50 * 2 ** 30), VREG_UPSTREAM_MAX_CONCURRENT_FILLS: '4' }),
    ).toMatchObject({ VREG_UPSTREAM_MAX_BLOB_BYTES: 50 * 2 ** 30, VREG_UPSTREAM_MAX_CONCURRENT_FILLS: 4 });
    expect(parseEnv(UpstreamEnv, { VREG_UPSTREAM_MAX_BLOB_BYTES: '0', VREG_UPSTREAM_MAX_CONCURRENT_FILLS: '0' })).toMatchObject({
      VREG_UPSTREAM_MAX_BLOB_BYTES: 0,
      VREG_UPSTREAM_MAX_CONCURRENT_FILLS: 0,
    });
    expect(() => parseEnv(UpstreamEnv, { VREG_UPSTREAM_MAX_CONCURRENT_FILLS: '-1' })).toThrow(/VREG_UPSTREAM_MAX_CONCURRENT_FILLS/);
  });
});
