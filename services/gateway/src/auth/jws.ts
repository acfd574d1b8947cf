import { type KeyObject, sign, verify } from 'node:crypto';

/**
 * Compact JWS (RFC 7515) with EdDSA over Ed25519 (RFC 8037), the one
 * algorithm vreg signs and accepts. Small on purpose: no `alg` negotiation,
 * so `none`, HMAC-with-the-public-key and the other classic JWT confusions
 * have nothing to attach to.
 */
export interface JwsHeader {
  alg: 'EdDSA';
  /** Which key signed: the key's JWK thumbprint (RFC 7638). */
  kid: string;
  typ: 'JWT';
}

/** Longest token accepted for parsing, in characters: a grant of many repositories stays far below. */
export const MAX_JWS_LENGTH = 16 * 1024;

const encode = (value: unknown): string => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

/** `<header>.<payload>.<signature>`, all base64url without padding. */
export function signJws(payload: object, kid: string, privateKey: KeyObject): string {
  const header: JwsHeader = { alg: 'EdDSA', kid, typ: 'JWT' };
  const signingInput = `${encode(header)}.${encode(payload)}`;
  const signature = sign(null, Buffer.from(signingInput, 'ascii'), privateKey);
  return `${signingInput}.${signature.toString('base64url')}`;
}

/** Why a token was refused; never shown in detail to clients. */
export class JwsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JwsError';
  }
}

const B64URL = /^[A-Za-z0-9_-]+$/;

function decodeJson(part: string, what: string): Record<string, unknown> {
  if (!B64URL.test(part)) throw new JwsError(`${what} is not base64url`);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new JwsError(`${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new JwsError(`${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

/**
 * Checks the signature with the key `keyFor(kid)` returns and gives back the
 * payload. Refuses any `alg` but EdDSA, an unknown `kid`, a malformed token
 * and a signature that does not verify (so any altered byte).
 * @throws JwsError
 */
export function verifyJws(token: string, keyFor: (kid: string) => KeyObject | undefined): Record<string, unknown> {
  if (token.length > MAX_JWS_LENGTH) throw new JwsError('token too long');
  const parts = token.split('.');
  if (parts.length !== 3) throw new JwsError('not a compact JWS');
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = decodeJson(headerPart, 'header');
  if (header.alg !== 'EdDSA') throw new JwsError('unsupported alg');
  if (header.typ !== undefined && header.typ !== 'JWT') throw new JwsError('unsupported typ');
  if (header.crit !== undefined) throw new JwsError('critical header parameters are not supported');
  if (typeof header.kid !== 'string') throw new JwsError('no kid');
  const key = keyFor(header.kid);
  if (key === undefined) throw new JwsError('unknown kid');
  if (!B64URL.test(signaturePart)) throw new JwsError('signature is not base64url');
  const ok = verify(null, Buffer.from(`${headerPart}.${payloadPart}`, 'ascii'), key, Buffer.from(signaturePart, 'base64url'));
  if (!ok) throw new JwsError('bad signature');
  return decodeJson(payloadPart, 'payload');
}
