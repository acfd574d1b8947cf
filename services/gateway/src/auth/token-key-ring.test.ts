import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { JwsError } from './jws.ts';
import { newTokenSigningSeed, TokenKeyRing } from './token-key-ring.ts';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('TokenKeyRing', () => {
  const seedA = randomBytes(32);
  const seedB = randomBytes(32);

  it('signs EdDSA JWTs with a kid and verifies them', () => {
    const ring = TokenKeyRing.fromSeeds([seedA]);
    const token = ring.sign({ sub: 'x', n: 1 });
    const [header] = token.split('.');
    expect(JSON.parse(Buffer.from(header!, 'base64url').toString())).toEqual({ alg: 'EdDSA', kid: ring.signingKid, typ: 'JWT' });
    expect(ring.verify(token)).toEqual({ sub: 'x', n: 1 });
  });

  it('gives a key the same kid wherever it is loaded (its JWK thumbprint)', () => {
    expect(TokenKeyRing.fromSeeds([seedA]).signingKid).toBe(TokenKeyRing.parse(seedA.toString('hex')).signingKid);
    expect(TokenKeyRing.parse(seedA.toString('base64')).signingKid).toBe(TokenKeyRing.fromSeeds([seedA]).signingKid);
    expect(TokenKeyRing.fromSeeds([seedA]).signingKid).not.toBe(TokenKeyRing.fromSeeds([seedB]).signingKid);
    expect(TokenKeyRing.fromSeeds([seedA]).signingKid).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('rotates: a ring with a new key first still verifies tokens of the old one, and signs with the new', () => {
    const old = TokenKeyRing.fromSeeds([seedA]);
    const rotated = TokenKeyRing.fromSeeds([seedB, seedA]);
    expect(rotated.verify(old.sign({ v: 'old' }))).toEqual({ v: 'old' });
    const fresh = rotated.sign({ v: 'new' });
    expect(TokenKeyRing.fromSeeds([seedB]).verify(fresh)).toEqual({ v: 'new' });
    expect(() => old.verify(fresh)).toThrow(JwsError);
  });

  it('refuses a token of an unknown key, even with a kid it knows', () => {
    const ring = TokenKeyRing.fromSeeds([seedA]);
    const stranger = TokenKeyRing.fromSeeds([seedB]).sign({ sub: 'x' });
    expect(() => ring.verify(stranger)).toThrow(/unknown kid/);
    const [, payload, signature] = stranger.split('.');
    const forgedHeader = b64({ alg: 'EdDSA', kid: ring.signingKid, typ: 'JWT' });
    expect(() => ring.verify(`${forgedHeader}.${payload}.${signature}`)).toThrow(/bad signature/);
  });

  it('refuses altered claims, alg none, HS256 and garbage', () => {
    const ring = TokenKeyRing.fromSeeds([seedA]);
    const [header, , signature] = ring.sign({ access: [] }).split('.');
    const altered = `${header}.${b64({ access: [{ type: 'repository', name: 'x', actions: ['pull'] }] })}.${signature}`;
    expect(() => ring.verify(altered)).toThrow(/bad signature/);
    expect(() => ring.verify(`${b64({ alg: 'none', kid: ring.signingKid })}.${b64({ a: 1 })}.`)).toThrow(JwsError);
    expect(() => ring.verify(`${b64({ alg: 'HS256', kid: ring.signingKid })}.${b64({ a: 1 })}.${signature}`)).toThrow(/unsupported alg/);
    for (const junk of ['', 'a.b', 'a.b.c.d', '!!.!!.!!', 'x'.repeat(20_000)]) expect(() => ring.verify(junk)).toThrow(JwsError);
  });

  it('refuses a token signed by another Ed25519 key pair that claims its kid', () => {
    const ring = TokenKeyRing.fromSeeds([seedA]);
    const { privateKey } = generateKeyPairSync('ed25519');
    const input = `${b64({ alg: 'EdDSA', kid: ring.signingKid, typ: 'JWT' })}.${b64({ sub: 'evil' })}`;
    const token = `${input}.${sign(null, Buffer.from(input), privateKey).toString('base64url')}`;
    expect(() => ring.verify(token)).toThrow(/bad signature/);
  });

  it('derives one stable key from the secrets key, distinct from the secrets key itself', () => {
    const secret = randomBytes(32);
    expect(TokenKeyRing.deriveFrom(secret).signingKid).toBe(TokenKeyRing.deriveFrom(Buffer.from(secret)).signingKid);
    expect(TokenKeyRing.deriveFrom(secret).signingKid).not.toBe(TokenKeyRing.fromSeeds([secret]).signingKid);
  });

  it('parses one or two keys and refuses anything else', () => {
    expect(TokenKeyRing.parse(`${newTokenSigningSeed()}, ${newTokenSigningSeed()}`).kids).toHaveLength(2);
    expect(() => TokenKeyRing.parse('')).toThrow();
    expect(() => TokenKeyRing.parse([1, 2, 3].map(() => newTokenSigningSeed()).join(','))).toThrow();
    expect(() => TokenKeyRing.parse('abc')).toThrow(/key 1/);
    expect(() => TokenKeyRing.parse(randomBytes(16).toString('hex'))).toThrow(/key 1/);
  });
});
