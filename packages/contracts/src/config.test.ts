import { describe, expect, it } from 'vitest';
import { decodeKeys, isUpstreamAllowListEntry, parseEnv, SecretsEnv, UpstreamEnv } from './config.ts';

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
