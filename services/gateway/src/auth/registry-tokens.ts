import { randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import type { TokenKeyRing } from './token-key-ring.ts';
import { RegistryTokenRefusedError } from './token-refused-error.ts';

/** One grant of the token spec: `{ type: 'repository', name, actions: ['pull'] }`. */
export const AccessEntrySchema = z.object({
  type: z.string(),
  name: z.string(),
  actions: z.array(z.string()),
});
export type AccessEntry = z.infer<typeof AccessEntrySchema>;

/** The claims of a registry token (Docker token authentication spec, "JWT token"). */
export const RegistryTokenClaimsSchema = z.object({
  iss: z.string(),
  /** `access-token:<id>` for a token holder; '' for an anonymous client. */
  sub: z.string(),
  aud: z.union([z.string(), z.array(z.string())]),
  /** Seconds since the epoch. */
  exp: z.number(),
  nbf: z.number(),
  iat: z.number(),
  jti: z.string(),
  access: z.array(AccessEntrySchema),
});
export type RegistryTokenClaims = z.infer<typeof RegistryTokenClaimsSchema>;

/**
 * Tokens whose signature and claims were checked, remembered (least
 * recently used out first): a client presents the same token on every request of a pull for
 * its whole lifetime, and an Ed25519 check plus the claims' parse cost
 * ~120 µs of CPU, more than serving a manifest hit. 4,096 tokens are about
 * 2 MiB. Keyed by the whole token string, so only the very bytes that
 * passed are let through again, and their times are checked on every use.
 */
const VERIFIED_KEPT = 4096;

/** The subject of anonymous tokens. */
export const ANONYMOUS_SUBJECT = '';

export interface RegistryTokensOptions {
  /** `iss` of issued tokens; only tokens with this issuer are accepted. */
  issuer: string;
  /** `aud`: the service name of the challenge; only tokens for it are accepted. */
  service: string;
  /** Lifetime of an issued token. */
  ttlSeconds: number;
  /** Clock difference tolerated between replicas for `nbf`/`iat`. Default 30. */
  leewaySeconds?: number;
  now?: () => number;
}

/** An issued token as the token endpoint answers it. */
export interface IssuedToken {
  token: string;
  expiresIn: number;
  /** ISO-8601. */
  issuedAt: string;
}

/**
 * Issues and checks the short-lived registry tokens (JWT, EdDSA) clients
 * present on `/v2`. A token carries only the access it grants; checking one
 * needs the key ring alone, never the catalog.
 */
export class RegistryTokens {
  readonly #keys: TokenKeyRing;
  readonly #options: Required<RegistryTokensOptions>;
  /** Token → its checked claims (signature, issuer, audience, shape); times are checked on every use. */
  readonly #verified = new LRUCache<string, RegistryTokenClaims>({ max: VERIFIED_KEPT });

  constructor(keys: TokenKeyRing, options: RegistryTokensOptions) {
    this.#keys = keys;
    this.#options = { leewaySeconds: 30, now: Date.now, ...options };
  }

  get service(): string {
    return this.#options.service;
  }

  async issue(subject: string, access: readonly AccessEntry[]): Promise<IssuedToken> {
    const nowMs = this.#options.now();
    const iat = Math.floor(nowMs / 1000);
    const claims: RegistryTokenClaims = {
      iss: this.#options.issuer,
      sub: subject,
      aud: this.#options.service,
      exp: iat + this.#options.ttlSeconds,
      nbf: iat,
      iat,
      jti: randomBytes(16).toString('base64url'),
      access: access.map((a) => ({ type: a.type, name: a.name, actions: [...a.actions] })),
    };
    return { token: await this.#keys.sign(claims), expiresIn: this.#options.ttlSeconds, issuedAt: new Date(iat * 1000).toISOString() };
  }

  /**
   * The claims of a token this service's keys signed for this service and
   * issuer, inside its lifetime.
   * @throws RegistryTokenRefusedError (UNAUTHORIZED, one message for every refusal; the check in `reason`)
   */
  async verify(token: string): Promise<RegistryTokenClaims> {
    const claims = this.#verified.get(token) ?? (await this.#check(token));
    this.#checkTimes(claims);
    return claims;
  }

  /** Signature, issuer, audience and shape; remembered once they pass (the keys cannot change under a running process). */
  async #check(token: string): Promise<RegistryTokenClaims> {
    const payload = await this.#keys.verify(token, {
      issuer: this.#options.issuer,
      audience: this.#options.service,
      requiredClaims: ['exp', 'nbf', 'iat'],
      currentDate: new Date(this.#options.now()),
      // jose's own time checks get the leeway; #checkTimes applies the exact rule afterwards.
      clockTolerance: this.#options.leewaySeconds,
    });
    const parsed = RegistryTokenClaimsSchema.safeParse(payload);
    if (!parsed.success) throw new RegistryTokenRefusedError('claims malformed');
    const claims = parsed.data;
    this.#verified.set(token, claims);
    return claims;
  }

  /** Expired at `exp` exactly; valid from `nbf` and `iat` give or take the leeway between replicas' clocks. */
  #checkTimes(claims: RegistryTokenClaims): void {
    const now = this.#options.now() / 1000;
    const leeway = this.#options.leewaySeconds;
    if (claims.exp <= now) throw new RegistryTokenRefusedError('expired');
    if (claims.nbf > now + leeway || claims.iat > now + leeway) throw new RegistryTokenRefusedError('not yet valid');
  }
}

/** True when the claims grant `action` on repository `name`. */
export function grants(claims: Pick<RegistryTokenClaims, 'access'>, name: string, action: string): boolean {
  return claims.access.some((a) => a.type === 'repository' && a.name === name && a.actions.includes(action));
}
