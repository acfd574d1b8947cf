import { isIP } from 'node:net';
import { Agent, buildConnector } from 'undici';
import { guardBody } from './guard-body.ts';
import type { SentResponse, UpstreamLogger } from './http-sender.ts';
import { describeUrl, discardBody, errorForStatus, HttpSender } from './http-sender.ts';
import { DEFAULT_MANIFEST_ACCEPT } from './media-types.ts';
import { UpstreamAddressBlockedError, UpstreamAddressPolicy } from './upstream-address-policy.ts';
import type { AuthScope } from './upstream-authenticator.ts';
import { UpstreamAuthenticator } from './upstream-authenticator.ts';
import { toUpstreamHead } from './upstream-head.ts';
import type { PingAuth, PingOptions, UpstreamPing } from './upstream-ping.ts';
import { classifyPingAnswer, classifyPingFailure, UpstreamPingResults } from './upstream-ping.ts';
import type {
  BlobRequestOptions,
  ByteRange,
  HeadRequestOptions,
  ManifestRequestOptions,
  UpstreamHead,
  UpstreamRegistry,
  UpstreamResponse,
  UpstreamTarget,
} from './upstream-registry.ts';
import type { ObjectKind } from './upstream-url.ts';
import { buildListingUrl, buildObjectUrl, buildPingUrl, parseBaseUrl, pullScope, upstreamImageName } from './upstream-url.ts';

/** Tuning of an {@link HttpUpstreamRegistry}; every field has a default. */
export interface HttpUpstreamRegistryOptions {
  /** TCP + TLS connect timeout in ms. Default 10 000. */
  connectTimeoutMs?: number;
  /** Time to the response headers (first byte) in ms. Default 30 000. */
  headersTimeoutMs?: number;
  /**
   * Longest silence of the upstream while the caller is reading a body, in
   * ms; past it the body errors. Time the caller spends not reading
   * (backpressure) does not count. Default 60 000.
   */
  bodyIdleTimeoutMs?: number;
  /** `User-Agent` header. Default `vreg/0.1`. */
  userAgent?: string;
  /** Redirects followed per request. Default 5. */
  maxRedirects?: number;
  /** Concurrent connections per origin; default unlimited, so a big blob never queues the next request behind it. */
  connectionsPerOrigin?: number;
  /** Idle keep-alive sockets are closed after this many ms. Default 30 000. */
  keepAliveTimeoutMs?: number;
  /** Bound of the bearer-token cache (and of the Basic-origin memory). Default 1000. */
  maxCachedTokens?: number;
  /**
   * Which addresses may be connected to (SSRF guard), checked on every
   * connection, so on every redirect hop and every DNS answer. Default:
   * public addresses only (no loopback, link-local, private, metadata).
   */
  addressPolicy?: UpstreamAddressPolicy;
  /** pino-like logger (`debug`, `warn`); it never receives secrets. */
  logger?: UpstreamLogger;
}

/**
 * {@link UpstreamRegistry} over HTTP with undici: one keep-alive agent for
 * all upstreams, bearer and Basic auth with a per-instance token cache,
 * hand-followed redirects that never carry credentials to another origin,
 * and streamed bodies. Call {@link close} on shutdown.
 */
export class HttpUpstreamRegistry implements UpstreamRegistry {
  readonly #agent: Agent;
  readonly #sender: HttpSender;
  readonly #auth: UpstreamAuthenticator;
  readonly #logger: UpstreamLogger | undefined;

  /** @throws RangeError when a timeout or limit is not a positive integer */
  constructor(options: HttpUpstreamRegistryOptions = {}) {
    const connectTimeoutMs = positive('connectTimeoutMs', options.connectTimeoutMs, 10_000);
    const headersTimeoutMs = positive('headersTimeoutMs', options.headersTimeoutMs, 30_000);
    const bodyIdleTimeoutMs = positive('bodyIdleTimeoutMs', options.bodyIdleTimeoutMs, 60_000);
    const maxRedirects = nonNegative('maxRedirects', options.maxRedirects, 5);
    this.#logger = options.logger;
    this.#agent = new Agent({
      connect: guardedConnector(connectTimeoutMs, options.addressPolicy ?? new UpstreamAddressPolicy()),
      connections: options.connectionsPerOrigin === undefined ? null : positive('connectionsPerOrigin', options.connectionsPerOrigin, 1),
      keepAliveTimeout: positive('keepAliveTimeoutMs', options.keepAliveTimeoutMs, 30_000),
      headersTimeout: headersTimeoutMs,
      bodyTimeout: bodyIdleTimeoutMs,
    });
    this.#sender = new HttpSender(this.#agent, {
      headersTimeoutMs,
      bodyIdleTimeoutMs,
      maxRedirects,
      userAgent: options.userAgent ?? 'vreg/0.1',
      logger: options.logger,
    });
    this.#auth = new UpstreamAuthenticator(this.#sender, positive('maxCachedTokens', options.maxCachedTokens, 1000), options.logger);
  }

  /** {@inheritDoc UpstreamRegistry.getManifest} */
  async getManifest(
    target: UpstreamTarget,
    image: string,
    reference: string,
    opts: ManifestRequestOptions = {},
  ): Promise<UpstreamResponse | undefined> {
    const res = await this.#fetch('GET', target, image, 'manifests', reference, MANIFEST_HEADERS, opts.signal);
    return res === undefined ? undefined : toResponse(res, opts.signal);
  }

  /** {@inheritDoc UpstreamRegistry.headManifest} */
  async headManifest(
    target: UpstreamTarget,
    image: string,
    reference: string,
    opts: ManifestRequestOptions = {},
  ): Promise<UpstreamHead | undefined> {
    const res = await this.#fetch('HEAD', target, image, 'manifests', reference, MANIFEST_HEADERS, opts.signal);
    return res === undefined ? undefined : toHead(res);
  }

  /** {@inheritDoc UpstreamRegistry.getBlob} */
  async getBlob(
    target: UpstreamTarget,
    image: string,
    digest: string,
    opts: BlobRequestOptions = {},
  ): Promise<UpstreamResponse | undefined> {
    const headers: Record<string, string> = opts.range === undefined ? {} : { range: rangeHeader(opts.range) };
    const res = await this.#fetch('GET', target, image, 'blobs', digest, headers, opts.signal);
    return res === undefined ? undefined : toResponse(res, opts.signal);
  }

  /** {@inheritDoc UpstreamRegistry.headBlob} */
  async headBlob(target: UpstreamTarget, image: string, digest: string, opts: HeadRequestOptions = {}): Promise<UpstreamHead | undefined> {
    const res = await this.#fetch('HEAD', target, image, 'blobs', digest, {}, opts.signal);
    return res === undefined ? undefined : toHead(res);
  }

  /** {@inheritDoc UpstreamRegistry.getTagList} */
  async getTagList(
    target: UpstreamTarget,
    image: string,
    query: { n?: number; last?: string },
    opts: HeadRequestOptions = {},
  ): Promise<UpstreamResponse | undefined> {
    const baseUrl = parseBaseUrl(target.url);
    const name = upstreamImageName(image, target.libraryPrefix);
    const res = await this.#fetchUrl(
      'GET',
      target,
      baseUrl,
      name,
      buildListingUrl(baseUrl, name, { kind: 'tags', ...query }),
      { accept: 'application/json' },
      opts.signal,
    );
    return res === undefined ? undefined : toResponse(res, opts.signal);
  }

  /** {@inheritDoc UpstreamRegistry.getReferrers} */
  async getReferrers(
    target: UpstreamTarget,
    image: string,
    digest: string,
    query: { artifactType?: string },
    opts: HeadRequestOptions = {},
  ): Promise<UpstreamResponse | undefined> {
    const baseUrl = parseBaseUrl(target.url);
    const name = upstreamImageName(image, target.libraryPrefix);
    const url = buildListingUrl(baseUrl, name, { kind: 'referrers', digest, ...query });
    const res = await this.#fetchUrl('GET', target, baseUrl, name, url, { accept: 'application/vnd.oci.image.index.v1+json' }, opts.signal);
    return res === undefined ? undefined : toResponse(res, opts.signal);
  }

  /** {@inheritDoc UpstreamRegistry.ping} */
  async ping(target: UpstreamTarget, opts: PingOptions = {}): Promise<UpstreamPing> {
    const started = performance.now();
    const baseUrl = parseBaseUrl(target.url);
    const url = buildPingUrl(baseUrl);
    const auth: AuthScope = { target, baseUrl };
    const hadCredentials = target.username !== undefined && target.username !== '';
    const finish = (outcome: Omit<UpstreamPing, 'latencyMs'>): UpstreamPing => {
      const ping = { ...outcome, latencyMs: Math.round(performance.now() - started) };
      this.#logger?.debug(
        { upstream: baseUrl.origin, result: ping.result, status: ping.status, latencyMs: ping.latencyMs },
        'upstream pinged',
      );
      return ping;
    };
    // No cached authorization: a test must prove the credentials now.
    let authorization: string | undefined;
    try {
      for (let challenged = false; ; challenged = true) {
        const res = await this.#sender.send({
          method: 'GET',
          url,
          headers: authorization === undefined ? {} : { authorization },
          signal: opts.signal,
        });
        await discardBody(res.body);
        if (res.statusCode === 401 && !challenged && res.url.origin === url.origin) {
          authorization = await this.#auth.answerChallenge(auth, res.headers['www-authenticate'], authorization, opts.signal);
          continue;
        }
        return finish(classifyPingAnswer(res, authScheme(authorization), hadCredentials));
      }
    } catch (err) {
      const signal = opts.signal;
      if (signal?.aborted === true) {
        if ((signal.reason as { name?: unknown } | undefined)?.name !== 'TimeoutError') throw signal.reason;
        return finish({ result: UpstreamPingResults.unreachable, message: `${describeUrl(url)} did not answer in time` });
      }
      const outcome = classifyPingFailure(err);
      if (outcome === undefined) throw err;
      return finish(outcome);
    }
  }

  /** Closes the connection pool once in-flight requests finish. */
  close(): Promise<void> {
    return this.#agent.close();
  }

  /**
   * Sends the request, answering at most one auth challenge, and returns
   * the 200/206 response (body unread) or `undefined` on 404.
   */
  async #fetch(
    method: 'GET' | 'HEAD',
    target: UpstreamTarget,
    image: string,
    kind: ObjectKind,
    reference: string,
    extraHeaders: Record<string, string>,
    signal: AbortSignal | undefined,
  ): Promise<SentResponse | undefined> {
    const baseUrl = parseBaseUrl(target.url);
    const name = upstreamImageName(image, target.libraryPrefix);
    return this.#fetchUrl(method, target, baseUrl, name, buildObjectUrl(baseUrl, name, kind, reference), extraHeaders, signal);
  }

  /** {@link #fetch} for any URL inside `image`'s repository. */
  async #fetchUrl(
    method: 'GET' | 'HEAD',
    target: UpstreamTarget,
    baseUrl: URL,
    image: string,
    url: URL,
    extraHeaders: Record<string, string>,
    signal: AbortSignal | undefined,
  ): Promise<SentResponse | undefined> {
    const auth: AuthScope = { target, baseUrl, scope: pullScope(image) };
    let authorization = this.#auth.cachedAuthorization(auth);
    for (let challenged = false; ; challenged = true) {
      const headers = authorization === undefined ? extraHeaders : { ...extraHeaders, authorization };
      const res = await this.#sender.send({ method, url, headers, signal });
      if (res.statusCode === 200 || res.statusCode === 206) return res;
      await discardBody(res.body);
      this.#logger?.debug({ upstream: baseUrl.origin, url: describeUrl(res.url), method, status: res.statusCode }, 'upstream answered');
      if (res.statusCode === 404) return undefined;
      // Only the upstream itself may challenge us: a 401 from a CDN we were
      // redirected to must not make us send credentials anywhere.
      if (res.statusCode === 401 && !challenged && res.url.origin === url.origin) {
        authorization = await this.#auth.answerChallenge(auth, res.headers['www-authenticate'], authorization, signal);
        continue;
      }
      throw errorForStatus(res);
    }
  }
}

/**
 * undici's connector with the address policy in front: literal IPs are
 * checked here (net.connect does no lookup for them), names in the policy's
 * `lookup`, on the addresses the socket will actually use.
 */
function guardedConnector(timeout: number, policy: UpstreamAddressPolicy): buildConnector.connector {
  const connect = buildConnector({ timeout, lookup: policy.lookup });
  return (opts, callback) => {
    const host = opts.hostname.replace(/^\[(.*)\]$/, '$1');
    if (isIP(host) !== 0 && !policy.isHostAllowed(host) && !policy.isAddressAllowed(host)) {
      callback(new UpstreamAddressBlockedError(host, host), null);
      return;
    }
    connect(opts, callback);
  };
}

function authScheme(authorization: string | undefined): PingAuth {
  if (authorization === undefined) return 'anonymous';
  return authorization.startsWith('Bearer ') ? 'bearer' : 'basic';
}

const MANIFEST_HEADERS: Readonly<Record<string, string>> = Object.freeze({ accept: DEFAULT_MANIFEST_ACCEPT.join(', ') });

function rangeHeader(range: ByteRange): string {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || start < 0 || (end !== undefined && (!Number.isSafeInteger(end) || end < start))) {
    throw new RangeError(`invalid byte range ${start}-${end ?? ''}`);
  }
  return `bytes=${start}-${end ?? ''}`;
}

function toResponse(res: SentResponse, signal: AbortSignal | undefined): UpstreamResponse {
  return { ...toUpstreamHead(res.headers), status: res.statusCode, body: guardBody(res.body, describeUrl(res.url), signal) };
}

function toHead(res: SentResponse): UpstreamHead {
  void discardBody(res.body); // a HEAD has none; dumping returns the socket at once
  return toUpstreamHead(res.headers);
}

function positive(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v <= 0) throw new RangeError(`${name} must be a positive integer, got ${v}`);
  return v;
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${name} must be a non-negative integer, got ${v}`);
  return v;
}
