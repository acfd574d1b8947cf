import { createHmac, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { LRUCache } from 'lru-cache';
import { UpstreamAuthError, UpstreamUnavailableError } from './errors.ts';
import type { HttpSender, UpstreamLogger } from './http-sender.ts';
import { describeUrl, discardBody, errorForStatus } from './http-sender.ts';
import { parseWwwAuthenticate } from './parse-www-authenticate.ts';
import type { UpstreamTarget } from './upstream-registry.ts';

/** What a request needs authorizing for. */
export interface AuthScope {
  /** The upstream and its credentials. */
  target: UpstreamTarget;
  /** The target's parsed base URL. */
  baseUrl: URL;
  /** Token scope, e.g. `repository:library/alpine:pull`; absent for `/v2/` itself (a token request without scope). */
  scope?: string;
}

const DEFAULT_TOKEN_TTL_S = 60; // distribution's token spec: assume 60 s when expires_in is absent
const MAX_TOKEN_RESPONSE_BYTES = 64 * 1024;

/**
 * Answers registry auth challenges and remembers the answers: bearer
 * tokens per (upstream, credentials, scope) until shortly before they
 * expire, and which upstream origins want Basic credentials sent up front.
 * All state is per instance and bounded.
 */
export class UpstreamAuthenticator {
  // Bounded, so a flood of distinct scopes cannot grow them without end.
  readonly #tokens: LRUCache<string, string>;
  readonly #basicOrigins: LRUCache<string, true>;
  readonly #inflight = new Map<string, Promise<string>>();
  // Keys hold an HMAC of the credentials, so a wrong password never shares
  // a token fetched with the right one, and no password sits in a key.
  readonly #keySecret = randomBytes(32);

  /**
   * @param sender the shared HTTP sender (token requests follow redirects too)
   * @param maxEntries bound of the token cache and of the Basic-origin memory
   * @param logger optional; receives no secrets
   */
  constructor(
    private readonly sender: HttpSender,
    maxEntries: number,
    private readonly logger?: UpstreamLogger,
  ) {
    this.#tokens = new LRUCache({ max: maxEntries });
    this.#basicOrigins = new LRUCache({ max: maxEntries });
  }

  /** The `Authorization` to send first: a cached token, Basic if this origin asked for it before, or none. */
  cachedAuthorization(auth: AuthScope): string | undefined {
    const token = this.#tokens.get(this.#tokenKey(auth));
    if (token !== undefined) return `Bearer ${token}`;
    const basic = basicAuthorization(auth.target);
    if (basic !== undefined && this.#basicOrigins.get(auth.baseUrl.origin) === true) return basic;
    return undefined;
  }

  /**
   * Answers a 401's `WWW-Authenticate` (Bearer preferred over Basic).
   * @param sent the `Authorization` the rejected request carried, if any
   * @returns the `Authorization` to retry with
   * @throws UpstreamAuthError when there is nothing new to try: no usable
   *   challenge, Basic wanted without credentials, the same credentials
   *   already rejected, or the token endpoint refused them
   * @throws UpstreamUnavailableError / UpstreamRateLimitedError when the token endpoint fails
   */
  async answerChallenge(
    auth: AuthScope,
    header: string | string[] | undefined,
    sent: string | undefined,
    signal?: AbortSignal,
  ): Promise<string> {
    const where = describeUrl(auth.baseUrl);
    const challenges = parseWwwAuthenticate(header);
    const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params['realm'] !== undefined);
    if (bearer !== undefined) {
      const key = this.#tokenKey(auth);
      this.#tokens.delete(key); // whatever we sent was not good enough
      return `Bearer ${await abortable(this.#singleFlightToken(key, auth, bearer.params), signal)}`;
    }
    if (challenges.some((c) => c.scheme === 'basic')) {
      const basic = basicAuthorization(auth.target);
      if (basic === undefined) throw new UpstreamAuthError(`upstream ${where} requires credentials (Basic)`, { status: 401 });
      if (sent === basic) throw new UpstreamAuthError(`upstream ${where} rejected the credentials`, { status: 401 });
      this.#basicOrigins.set(auth.baseUrl.origin, true);
      return basic;
    }
    const schemes = challenges.map((c) => c.scheme).join(', ') || 'none';
    throw new UpstreamAuthError(`upstream ${where} answered 401 with no usable challenge (${schemes})`, { status: 401 });
  }

  #tokenKey(auth: AuthScope): string {
    const { username, password } = auth.target;
    const who =
      username === undefined || username === ''
        ? ''
        : createHmac('sha256', this.#keySecret)
            .update(`${username}\0${password ?? ''}`)
            .digest('base64url');
    return `${auth.baseUrl.href}\n${who}\n${auth.scope ?? ''}`;
  }

  // Concurrent misses for one scope share a token request. It runs without
  // any caller's signal so one caller giving up does not fail the others;
  // the sender's timeouts bound it.
  #singleFlightToken(key: string, auth: AuthScope, params: Record<string, string>): Promise<string> {
    let pending = this.#inflight.get(key);
    if (pending === undefined) {
      pending = this.#fetchToken(key, auth, params).finally(() => this.#inflight.delete(key));
      pending.catch(() => {}); // every waiter handles it; keep the unawaited copy quiet
      this.#inflight.set(key, pending);
    }
    return pending;
  }

  async #fetchToken(key: string, auth: AuthScope, params: Record<string, string>): Promise<string> {
    const realm = parseRealm(params['realm'] ?? '', auth.baseUrl);
    if (params['service'] !== undefined) realm.searchParams.set('service', params['service']);
    if (auth.scope !== undefined) realm.searchParams.append('scope', auth.scope);
    const headers: Record<string, string> = { accept: 'application/json' };
    const basic = basicAuthorization(auth.target);
    if (basic !== undefined) headers['authorization'] = basic;

    const res = await this.sender.send({ method: 'GET', url: realm, headers });
    if (res.statusCode !== 200) {
      await discardBody(res.body);
      this.logger?.warn(
        { upstream: auth.baseUrl.origin, realm: describeUrl(res.url), status: res.statusCode, scope: auth.scope },
        'upstream token request refused',
      );
      throw errorForStatus(res);
    }
    const body = await readJson(res.body, res.url);
    const token = pickString(body, 'token') ?? pickString(body, 'access_token');
    if (token === undefined) throw new UpstreamAuthError(`token endpoint ${describeUrl(res.url)} answered without a token`);
    const expiresIn = pickNumber(body, 'expires_in') ?? DEFAULT_TOKEN_TTL_S;
    // Refresh early so a token never expires between our check and its use.
    const ttlMs = expiresIn * 1000 - Math.min(30_000, (expiresIn * 1000) / 4);
    // lru-cache reads a ttl of 0 as "forever": a token already due for refresh is used once and not kept.
    if (ttlMs >= 1) this.#tokens.set(key, token, { ttl: Math.floor(ttlMs) });
    this.logger?.debug(
      { upstream: auth.baseUrl.origin, realm: describeUrl(res.url), scope: auth.scope, expiresIn },
      'fetched upstream token',
    );
    return token;
  }
}

function basicAuthorization(target: UpstreamTarget): string | undefined {
  if (target.username === undefined || target.username === '') return undefined;
  return `Basic ${Buffer.from(`${target.username}:${target.password ?? ''}`).toString('base64')}`;
}

function parseRealm(realm: string, base: URL): URL {
  let url: URL;
  try {
    url = new URL(realm, base);
  } catch (err) {
    throw new UpstreamAuthError(`upstream ${describeUrl(base)} sent an invalid token realm`, { status: 401, cause: err });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UpstreamAuthError(`upstream ${describeUrl(base)} sent a ${url.protocol} token realm`, { status: 401 });
  }
  return url;
}

async function readJson(body: Readable, url: URL): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_TOKEN_RESPONSE_BYTES) {
      body.destroy();
      throw new UpstreamUnavailableError(`token endpoint ${describeUrl(url)} sent more than ${MAX_TOKEN_RESPONSE_BYTES} bytes`);
    }
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    // No cause: the parser's message would quote the body, which may hold a token.
    throw new UpstreamUnavailableError(`token endpoint ${describeUrl(url)} sent invalid JSON`);
  }
}

function pickString(body: unknown, name: string): string | undefined {
  const value = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function pickNumber(body: unknown, name: string): number | undefined {
  const value = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
}

/** Awaits `promise` unless `signal` aborts first, then rejects with its reason. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
