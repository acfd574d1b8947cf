import { describe, expect, it } from 'vitest';
import { censorSecrets, REDACTED } from './censor-secrets.ts';
import { createLogger } from './create-logger.ts';

describe('censorSecrets', () => {
  it('blanks secret keys at any depth and in any case, and leaves the caller objects as they were', () => {
    const input = {
      status: 200,
      upstream: { url: 'https://ghcr.io', headers: { Authorization: 'Bearer x', accept: 'a/b' }, passwordSealed: 'v1.s' },
      list: [{ token: 't' }, 'plain'],
    };
    const before = JSON.stringify(input);
    const out = censorSecrets(input);
    expect(out).toEqual({
      status: 200,
      upstream: { url: 'https://ghcr.io', headers: { Authorization: REDACTED, accept: 'a/b' }, passwordSealed: REDACTED },
      list: [{ token: REDACTED }, 'plain'],
    });
    expect(JSON.stringify(input)).toBe(before);
  });

  it('returns an object without secrets as it came, and keeps an Error an Error', () => {
    const clean = { method: 'GET', url: '/v2/', bytes: 3 };
    expect(censorSecrets(clean)).toBe(clean);
    const err = Object.assign(new Error('upstream refused'), { request: { headers: { authorization: 'Basic y' } } });
    const { err: out } = censorSecrets({ err });
    expect(out).toBeInstanceOf(Error);
    expect(out.message).toBe('upstream refused');
    expect(out.request.headers.authorization).toBe(REDACTED);
    expect(err.request.headers.authorization).toBe('Basic y');
  });

  it('stops at cycles', () => {
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    expect(censorSecrets(a)).toBe(a);
  });
});

describe('createLogger', () => {
  it("blanks credentials in a child logger's bindings", () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', name: 'test', destination: { write: (line: string) => void lines.push(line) } });
    logger.child({ upstream: { password: 'pw-2' } }).info('bound');
    expect(lines.join('')).not.toContain('pw-2');
    expect(lines.join('')).toContain(REDACTED);
  });
});
