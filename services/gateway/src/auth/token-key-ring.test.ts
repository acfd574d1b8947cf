import { createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MAX_TOKEN_LENGTH, newTokenSigningSeed, TokenKeyRing } from './token-key-ring.ts';
import { RegistryTokenRefusedError } from './token-refused-error.ts';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** The refusal's logged reason (the client only ever sees "the registry token is not valid"). */
async function reasonOf(verifying: Promise<unknown>): Promise<string> {
  const err = await verifying.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RegistryTokenRefusedError);
  expect((err as Error).message).toBe('the registry token is not valid');
  expect((err as { detail?: unknown }).detail).toBeUndefined();
  return (err as RegistryTokenRefusedError).reason;
}

describe('TokenKeyRing', () => {
  const seedA = randomBytes(32);
  const seedB = randomBytes(32);

  it('signs EdDSA JWTs with a kid and verifies them', async () => {
    const ring = await TokenKeyRing.fromSeeds([seedA]);
    const token = await ring.sign({ sub: 'x', n: 1 });
    const [header] = token.split('.');
    expect(JSON.parse(Buffer.from(header!, 'base64url').toString())).toEqual({ alg: 'EdDSA', kid: ring.signingKid, typ: 'JWT' });
    expect(await ring.verify(token)).toEqual({ sub: 'x', n: 1 });
  });

  it('gives a key the same kid wherever it is loaded (its JWK thumbprint)', async () => {
    const a = await TokenKeyRing.fromSeeds([seedA]);
    expect(a.signingKid).toBe((await TokenKeyRing.parse(seedA.toString('hex'))).signingKid);
    expect((await TokenKeyRing.parse(seedA.toString('base64'))).signingKid).toBe(a.signingKid);
    expect(a.signingKid).not.toBe((await TokenKeyRing.fromSeeds([seedB])).signingKid);
    expect(a.signingKid).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('takes the seed as RFC 8037 does: its Appendix A key has the thumbprint the RFC gives', async () => {
    const seed = Buffer.from('nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A', 'base64url');
    expect((await TokenKeyRing.fromSeeds([seed])).signingKid).toBe('kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k');
  });

  it('rotates: a ring with a new key first still verifies tokens of the old one, and signs with the new', async () => {
    const old = await TokenKeyRing.fromSeeds([seedA]);
    const rotated = await TokenKeyRing.fromSeeds([seedB, seedA]);
    expect(await rotated.verify(await old.sign({ v: 'old' }))).toEqual({ v: 'old' });
    const fresh = await rotated.sign({ v: 'new' });
    expect(await (await TokenKeyRing.fromSeeds([seedB])).verify(fresh)).toEqual({ v: 'new' });
    expect(await reasonOf(old.verify(fresh))).toBe('unknown kid');
  });

  it('refuses a token of an unknown key, even with a kid it knows', async () => {
    const ring = await TokenKeyRing.fromSeeds([seedA]);
    const stranger = await (await TokenKeyRing.fromSeeds([seedB])).sign({ sub: 'x' });
    expect(await reasonOf(ring.verify(stranger))).toBe('unknown kid');
    const [, payload, signature] = stranger.split('.');
    const forgedHeader = b64({ alg: 'EdDSA', kid: ring.signingKid, typ: 'JWT' });
    expect(await reasonOf(ring.verify(`${forgedHeader}.${payload}.${signature}`))).toBe('bad signature');
  });

  it('refuses a token whose kid was swapped for the other key of a two-key ring', async () => {
    const ring = await TokenKeyRing.fromSeeds([seedA, seedB]);
    const signedByA = await ring.sign({ sub: 'x' });
    const [, payload, signature] = signedByA.split('.');
    const otherKid = ring.kids[1];
    expect(await reasonOf(ring.verify(`${b64({ alg: 'EdDSA', kid: otherKid, typ: 'JWT' })}.${payload}.${signature}`))).toBe(
      'bad signature',
    );
  });

  it('refuses altered claims, alg none, HS256 keyed with the public key, and garbage', async () => {
    const ring = await TokenKeyRing.fromSeeds([seedA]);
    const [header, , signature] = (await ring.sign({ access: [] })).split('.');
    const altered = `${header}.${b64({ access: [{ type: 'repository', name: 'x', actions: ['pull'] }] })}.${signature}`;
    expect(await reasonOf(ring.verify(altered))).toBe('bad signature');
    expect(await reasonOf(ring.verify(`${b64({ alg: 'none', kid: ring.signingKid, typ: 'JWT' })}.${b64({ a: 1 })}.`))).toMatch(
      /unsupported alg|ERR_JWS_INVALID/,
    );
    // The classic confusion: HMAC with the verifier's public key (every form of it an attacker could get) as the secret.
    const publicKey = createPublicKey(ringPrivateKey(seedA));
    const hsInput = `${b64({ alg: 'HS256', kid: ring.signingKid, typ: 'JWT' })}.${b64({ a: 1 })}`;
    for (const secret of [
      publicKey.export({ format: 'pem', type: 'spki' }),
      publicKey.export({ format: 'der', type: 'spki' }),
      Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url'),
      JSON.stringify(publicKey.export({ format: 'jwk' })),
    ]) {
      const mac = createHmac('sha256', secret).update(hsInput).digest('base64url');
      expect(await reasonOf(ring.verify(`${hsInput}.${mac}`))).toBe('unsupported alg');
    }
    for (const junk of ['', 'a.b', 'a.b.c.d', '!!.!!.!!', 'x'.repeat(20_000)]) await reasonOf(ring.verify(junk));
  });

  it('refuses a header that is not JSON, a crit header, and a token past MAX_TOKEN_LENGTH, signature or not', async () => {
    const ring = await TokenKeyRing.fromSeeds([seedA]);
    // Signed with the ring's own key: only what the header or the length says can make these fail.
    const signedWith = async (header: Record<string, unknown>, payload: Record<string, unknown>) => {
      const input = `${b64(header)}.${b64(payload)}`;
      return `${input}.${sign(null, Buffer.from(input), ringPrivateKey(seedA)).toString('base64url')}`;
    };
    const kid = ring.signingKid;
    expect(await ring.verify(await signedWith({ alg: 'EdDSA', kid, typ: 'JWT' }, { ok: 1 }))).toEqual({ ok: 1 });
    expect(await reasonOf(ring.verify(await signedWith({ alg: 'EdDSA', kid, typ: 'JWT', crit: ['exp'], exp: 1 }, { ok: 1 })))).toMatch(
      /ERR_JOSE_NOT_SUPPORTED|ERR_JWS_INVALID/,
    );
    const notJson = `${Buffer.from('{not json').toString('base64url')}.${b64({ ok: 1 })}.AAAA`;
    expect(await reasonOf(ring.verify(notJson))).toMatch(/ERR_JWS_INVALID/);
    const big = await signedWith({ alg: 'EdDSA', kid, typ: 'JWT' }, { pad: 'p'.repeat(MAX_TOKEN_LENGTH) });
    expect(await reasonOf(ring.verify(big))).toBe('token too long');
  });

  it('refuses a token signed by another Ed25519 key pair that claims its kid', async () => {
    const ring = await TokenKeyRing.fromSeeds([seedA]);
    const { privateKey } = generateKeyPairSync('ed25519');
    const input = `${b64({ alg: 'EdDSA', kid: ring.signingKid, typ: 'JWT' })}.${b64({ sub: 'evil' })}`;
    const token = `${input}.${sign(null, Buffer.from(input), privateKey).toString('base64url')}`;
    expect(await reasonOf(ring.verify(token))).toBe('bad signature');
  });

  it('derives one stable key from the secrets key, distinct from the secrets key itself', async () => {
    const secret = randomBytes(32);
    expect((await TokenKeyRing.deriveFrom(secret)).signingKid).toBe((await TokenKeyRing.deriveFrom(Buffer.from(secret))).signingKid);
    expect((await TokenKeyRing.deriveFrom(secret)).signingKid).not.toBe((await TokenKeyRing.fromSeeds([secret])).signingKid);
  });

  it('parses one or two keys and refuses anything else', async () => {
    expect((await TokenKeyRing.parse(`${newTokenSigningSeed()}, ${newTokenSigningSeed()}`)).kids).toHaveLength(2);
    await expect(TokenKeyRing.parse('')).rejects.toThrow();
    await expect(TokenKeyRing.parse([1, 2, 3].map(() => newTokenSigningSeed()).join(','))).rejects.toThrow();
    await expect(TokenKeyRing.parse('abc')).rejects.toThrow(/key 1/);
    await expect(TokenKeyRing.parse(randomBytes(16).toString('hex'))).rejects.toThrow(/key 1/);
  });
});

/** The ring's private key as node:crypto holds it, to sign hand-made tokens in tests. */
function ringPrivateKey(seed: Buffer): KeyObject {
  return createPrivateKey({ key: seed, format: 'raw-private', asymmetricKeyType: 'ed25519' });
}
