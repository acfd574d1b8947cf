import { createLogger } from '@vreg/logging';
import { describe, expect, it } from 'vitest';
import { loadGatewayConfig, loadGatewayPullConfig } from '../config.ts';
import { createServer } from '../http/create-server.ts';
import { newTokenSigningSeed } from './token-key-ring.ts';

describe('access-control settings', () => {
  it('defaults to service and issuer vreg, five-minute tokens and no configured keys', () => {
    expect(loadGatewayPullConfig({})).toMatchObject({
      VREG_TOKEN_SERVICE: 'vreg',
      VREG_TOKEN_ISSUER: 'vreg',
      VREG_TOKEN_TTL_SECONDS: 300,
      VREG_AUTH_FAILURES_PER_ADDRESS: 20,
      VREG_AUTH_FAILURES_PER_USERNAME: 10,
      VREG_AUTH_FAILURE_WINDOW_SECONDS: 300,
    });
    expect(loadGatewayPullConfig({}).VREG_TOKEN_SIGNING_KEYS).toBeUndefined();
    expect(loadGatewayPullConfig({}).VREG_EXTERNAL_URL).toBeUndefined();
  });

  it('reads the external URL without its trailing slash and refuses one with a path', () => {
    expect(loadGatewayPullConfig({ VREG_EXTERNAL_URL: 'https://registry.example.com/' }).VREG_EXTERNAL_URL).toBe(
      'https://registry.example.com',
    );
    expect(() => loadGatewayPullConfig({ VREG_EXTERNAL_URL: 'https://registry.example.com/v2' })).toThrow(/VREG_EXTERNAL_URL/);
  });

  it('takes one or two signing keys and reports a bad one with every other problem at once', () => {
    expect(
      loadGatewayPullConfig({ VREG_TOKEN_SIGNING_KEYS: `${newTokenSigningSeed()},${newTokenSigningSeed()}` }).VREG_TOKEN_SIGNING_KEYS,
    ).toContain(',');
    const err = (() => {
      try {
        loadGatewayConfig({
          VREG_TOKEN_SIGNING_KEYS: 'nope',
          VREG_TOKEN_TTL_SECONDS: '5',
          VREG_S3_BUCKET: 'b-b',
          VREG_SECRET_KEY: 'ab'.repeat(32),
        });
      } catch (e) {
        return e as { problems: string[] };
      }
      return undefined;
    })();
    expect(err?.problems.map((p) => p.split(':')[0]).sort()).toEqual(['VREG_TOKEN_SIGNING_KEYS', 'VREG_TOKEN_TTL_SECONDS']);
  });

  it('believes X-Forwarded-For only from the proxies VREG_TRUST_PROXY lists', async () => {
    const logger = createLogger({ level: 'silent', name: 'test' });
    const trusting = createServer(logger, {
      trustProxy: loadGatewayPullConfig({ VREG_TRUST_PROXY: '127.0.0.1, 10.0.0.0/8' }).VREG_TRUST_PROXY,
    });
    const plain = createServer(logger);
    for (const server of [trusting, plain]) server.get('/ip', async (request) => ({ ip: request.ip }));
    const headers = { 'x-forwarded-for': '203.0.113.9' };
    expect((await trusting.inject({ url: '/ip', headers, remoteAddress: '127.0.0.1' })).json().ip).toBe('203.0.113.9');
    expect((await trusting.inject({ url: '/ip', headers, remoteAddress: '192.0.2.1' })).json().ip).toBe('192.0.2.1');
    expect((await plain.inject({ url: '/ip', headers, remoteAddress: '127.0.0.1' })).json().ip).toBe('127.0.0.1');
    expect(() => loadGatewayPullConfig({ VREG_TRUST_PROXY: 'everyone' })).toThrow(/VREG_TRUST_PROXY/);
  });
});
