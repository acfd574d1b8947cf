import { ErrorCodes, hasCode, TooManyRequestsError, UnauthorizedError } from '@vreg/contracts';
import type { FastifyRequest } from 'fastify';
import { loginFailureKeys } from '../domain/login-failure-keys.ts';
import type { AccessTokenVerifier } from '../ports/access-token-verifier.ts';
import type { FailureLimiter } from './failure-limiter.ts';
import type { Principal } from './grant-policy.ts';

/** Credentials as a client sent them: a username (any) and an access token. */
export interface Credentials {
  username: string;
  secret: string;
}

/**
 * The Basic credentials of a request: undefined when it carries none (or
 * another scheme), or only an empty username and password, which clients
 * send when they have none (the OCI conformance suite always does; an empty
 * password is no access token, so reading it as anonymous grants nothing
 * more); `malformed` when its Basic header cannot be read.
 */
export function basicCredentials(request: FastifyRequest): Credentials | undefined | 'malformed' {
  const header = request.headers.authorization;
  if (header === undefined || !/^Basic /i.test(header)) return undefined;
  const match = /^Basic[ ]+([A-Za-z0-9+/=]+)[ ]*$/i.exec(header);
  if (match === null) return 'malformed';
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return 'malformed';
  if (decoded === ':') return undefined;
  return { username: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

/**
 * Checks an access token presented as a password (the token endpoint's
 * Basic or OAuth2 form, a pull's own Basic header), throttling repeated
 * failures per client address (IPv6: per /64) and per username and client
 * network (loginFailureKeys) before the catalog is even asked. Successes cost nothing; a catalog that cannot tell is not a failure.
 */
export class AccessTokenLogin {
  readonly #deps: { verifier: AccessTokenVerifier; addressFailures: FailureLimiter; usernameFailures: FailureLimiter };

  constructor(deps: { verifier: AccessTokenVerifier; addressFailures: FailureLimiter; usernameFailures: FailureLimiter }) {
    this.#deps = deps;
  }

  /**
   * @throws TOOMANYREQUESTS while the address or username is throttled; UNAUTHORIZED for a wrong token;
   *   CATALOG_UNAVAILABLE when nobody could tell
   */
  async authenticate(request: FastifyRequest, credentials: Credentials): Promise<Principal> {
    const { address: addressKey, username: usernameKey } = loginFailureKeys(request.ip, credentials.username);
    const wait = Math.max(
      this.#deps.addressFailures.retryAfterSeconds(addressKey) ?? 0,
      usernameKey === undefined ? 0 : (this.#deps.usernameFailures.retryAfterSeconds(usernameKey) ?? 0),
    );
    if (wait > 0) {
      request.log.info({ retryAfterSeconds: wait }, 'login throttled after repeated failures');
      throw new TooManyRequestsError('too many failed login attempts: try again later', wait);
    }
    try {
      return { kind: 'access-token', token: await this.#deps.verifier.verify(credentials.secret) };
    } catch (err) {
      if (!hasCode(err, ErrorCodes.unauthorized)) throw err;
      this.#deps.addressFailures.fail(addressKey);
      if (usernameKey !== undefined) this.#deps.usernameFailures.fail(usernameKey);
      throw new UnauthorizedError('incorrect username or access token');
    }
  }

  /** Counts a malformed credential header like a wrong password: garbage is a cheap way to probe too. */
  malformed(request: FastifyRequest): void {
    this.#deps.addressFailures.fail(loginFailureKeys(request.ip, '').address);
  }
}
