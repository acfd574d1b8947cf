import { describe, expect, it } from 'vitest';
import { parseWwwAuthenticate } from './parse-www-authenticate.ts';

describe('parseWwwAuthenticate', () => {
  it('reads a Docker Hub bearer challenge', () => {
    const header = 'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"';
    expect(parseWwwAuthenticate(header)).toEqual([
      {
        scheme: 'bearer',
        params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/alpine:pull' },
      },
    ]);
  });

  it('keeps commas inside quoted values and unescapes quotes', () => {
    const [c] = parseWwwAuthenticate('Bearer realm="https://a/t",scope="repository:x:pull,push",error="say \\"hi\\""');
    expect(c?.params).toEqual({ realm: 'https://a/t', scope: 'repository:x:pull,push', error: 'say "hi"' });
  });

  it('matches scheme and parameter names case-insensitively and tolerates spaces around =', () => {
    const [c] = parseWwwAuthenticate('BEARER Realm = "https://a/t" ,  Service=reg.example');
    expect(c).toEqual({ scheme: 'bearer', params: { realm: 'https://a/t', service: 'reg.example' } });
  });

  it('splits several challenges in one header', () => {
    const challenges = parseWwwAuthenticate('Basic realm="Registry Realm", Bearer realm="https://a/t",service="s", Negotiate');
    expect(challenges.map((c) => c.scheme)).toEqual(['basic', 'bearer', 'negotiate']);
    expect(challenges[0]?.params).toEqual({ realm: 'Registry Realm' });
    expect(challenges[1]?.params).toEqual({ realm: 'https://a/t', service: 's' });
  });

  it('reads repeated headers and a token68', () => {
    const challenges = parseWwwAuthenticate(['Negotiate YIIBzwYGKwYBBQUC==', 'basic realm=simple']);
    expect(challenges).toEqual([
      { scheme: 'negotiate', params: {}, token68: 'YIIBzwYGKwYBBQUC==' },
      { scheme: 'basic', params: { realm: 'simple' } },
    ]);
  });

  it('keeps the first of a repeated parameter and ignores garbage', () => {
    const [c] = parseWwwAuthenticate('Bearer realm="one", realm="two", @@ service="s"');
    expect(c?.params['realm']).toBe('one');
    expect(c?.params['service']).toBe('s');
  });

  it('survives an unterminated quote, empty input and a missing header', () => {
    expect(parseWwwAuthenticate('Bearer realm="https://a/t')).toEqual([{ scheme: 'bearer', params: { realm: 'https://a/t' } }]);
    expect(parseWwwAuthenticate('')).toEqual([]);
    expect(parseWwwAuthenticate(' , ')).toEqual([]);
    expect(parseWwwAuthenticate(undefined)).toEqual([]);
  });

  it('does not let a parameter named __proto__ touch the prototype', () => {
    const [c] = parseWwwAuthenticate('Bearer __proto__="x", realm="r"');
    expect(c?.params['realm']).toBe('r');
    expect(Object.getPrototypeOf(c?.params)).toBeNull();
  });
});
