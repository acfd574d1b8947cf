import type { Readable } from 'node:stream';
import type { PingOptions, UpstreamPing } from './upstream-ping.ts';

/**
 * One upstream registry as the caller knows it: where it lives and, for a
 * private one, the credentials to pull with.
 */
export interface UpstreamTarget {
  /**
   * Base URL of the upstream registry, e.g. `https://registry-1.docker.io` or
   * `http://127.0.0.1:5001`. May include a path prefix
   * (`https://host/prefix` → `https://host/prefix/v2/...`). A trailing slash
   * and any user-info part are ignored.
   */
  url: string;
  /** User name for Basic auth to the registry or its token realm; omit for anonymous pulls. */
  username?: string;
  /**
   * Plaintext password or access token, already decrypted by the caller.
   * Never logged and never put in an error message.
   */
  password?: string;
  /** Docker Hub convention: ask for a one-component name `alpine` as `library/alpine`. */
  libraryPrefix?: boolean;
}

/** An inclusive byte range, as in `Range: bytes=start-end`. */
export interface ByteRange {
  /** First byte offset, counted from 0. */
  start: number;
  /** Last byte offset, inclusive; omit to read to the end of the blob. */
  end?: number;
}

/** Options of a manifest request (GET or HEAD). */
export interface ManifestRequestOptions {
  /**
   * Aborting it rejects the pending request, or destroys the returned body with the signal's reason.
   * (`Accept` is always `DEFAULT_MANIFEST_ACCEPT`: a narrower one makes registries convert.)
   */
  signal?: AbortSignal;
}

/** Options of a blob GET. */
export interface BlobRequestOptions {
  /** Aborting it rejects the pending request, or destroys the returned body with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Ask only for these bytes. An upstream that honours it answers 206; one
   * that ignores ranges answers 200 with the whole blob, so check `status`.
   */
  range?: ByteRange;
}

/** Options of a blob HEAD. */
export interface HeadRequestOptions {
  /** Aborting it rejects the pending request. */
  signal?: AbortSignal;
}

/** Metadata of an object an upstream has, as its response headers tell. */
export interface UpstreamHead {
  /** `Content-Type` exactly as the upstream sent it (for a manifest: its media type). */
  contentType?: string;
  /** `Content-Length` in bytes, when sent and a valid integer. */
  contentLength?: number;
  /** `Docker-Content-Digest`, e.g. `sha256:…`; unverified, the caller hashes the bytes. */
  dockerContentDigest?: string;
  /** `ETag` as sent (quotes included). */
  etag?: string;
  /**
   * All response headers, names lower-cased, repeated ones joined by `, `,
   * `set-cookie` left out. Carries e.g. Docker Hub's `ratelimit-limit` and
   * `ratelimit-remaining`.
   */
  headers: Record<string, string>;
}

/** An object body an upstream is sending, not yet read. */
export interface UpstreamResponse extends UpstreamHead {
  /** 200, or 206 for a ranged blob request the upstream honoured. */
  status: number;
  /**
   * The bytes, streamed with backpressure and never buffered whole. The
   * caller must consume or destroy it, or the connection stays busy. It
   * errors with `UpstreamUnavailableError` when the upstream stalls
   * longer than the body idle timeout or the connection breaks, and with the
   * signal's reason when the caller aborts.
   */
  body: Readable;
}

/**
 * Pulls manifests and blobs from an upstream OCI registry (Distribution
 * API v2), handling its auth challenges and redirects.
 *
 * Every method resolves to `undefined` when the upstream answers 404 and
 * otherwise throws:
 * - `UpstreamAuthError` (`UPSTREAM_AUTH_FAILED`) on 401/403 after
 *   authenticating, or when credentials are needed and missing;
 * - `UpstreamRateLimitedError` (`UPSTREAM_RATE_LIMITED`) on 429;
 * - `UpstreamUnavailableError` (`UPSTREAM_UNAVAILABLE`) on 5xx, any other
 *   unexpected status, connection failures and timeouts;
 * - the signal's reason when the caller aborts;
 * - `TypeError` when `image`, `reference`, `digest` or the target URL is
 *   malformed (a caller bug, never sent upstream).
 */
export interface UpstreamRegistry {
  /**
   * GET `<url>/v2/<image>/manifests/<reference>`.
   * @param image repository name, e.g. `library/alpine`
   * @param reference a tag or a digest
   * @returns the manifest stream, or `undefined` when the upstream has no such manifest
   */
  getManifest(
    target: UpstreamTarget,
    image: string,
    reference: string,
    opts?: ManifestRequestOptions,
  ): Promise<UpstreamResponse | undefined>;

  /**
   * HEAD `<url>/v2/<image>/manifests/<reference>`: the digest, media type and
   * size without the body (Docker Hub does not count HEADs against its pull
   * rate limit).
   * @returns the headers, or `undefined` when the upstream has no such manifest
   */
  headManifest(target: UpstreamTarget, image: string, reference: string, opts?: ManifestRequestOptions): Promise<UpstreamHead | undefined>;

  /**
   * GET `<url>/v2/<image>/blobs/<digest>`, following redirects to a CDN.
   * @param digest e.g. `sha256:…`
   * @returns the blob stream, or `undefined` when the upstream has no such blob
   */
  getBlob(target: UpstreamTarget, image: string, digest: string, opts?: BlobRequestOptions): Promise<UpstreamResponse | undefined>;

  /**
   * HEAD `<url>/v2/<image>/blobs/<digest>`.
   * @returns the headers, or `undefined` when the upstream has no such blob
   */
  headBlob(target: UpstreamTarget, image: string, digest: string, opts?: HeadRequestOptions): Promise<UpstreamHead | undefined>;

  /**
   * `GET /v2/<image>/tags/list` with the spec's `n`/`last` pagination; the
   * upstream's `Link` header is in `headers.link`.
   * @returns undefined when the upstream does not know the repository (404)
   */
  getTagList(
    target: UpstreamTarget,
    image: string,
    query: { n?: number; last?: string },
    opts?: HeadRequestOptions,
  ): Promise<UpstreamResponse | undefined>;

  /**
   * `GET /v2/<image>/referrers/<digest>` (OCI 1.1), optionally filtered by `artifactType`.
   * @returns undefined on 404: the upstream has no referrers API (use the tag schema fallback)
   */
  getReferrers(
    target: UpstreamTarget,
    image: string,
    digest: string,
    query: { artifactType?: string },
    opts?: HeadRequestOptions,
  ): Promise<UpstreamResponse | undefined>;

  /**
   * Tests the upstream: `GET <url>/v2/`, answering its auth challenge as the
   * other methods do (Bearer: a token request without a repository scope;
   * Basic), never with a cached token or Basic decision, so the credentials
   * are checked anew. Unlike the other methods it does not throw for what
   * the upstream answers or for a failed connection: those are the result
   * (`ok`, `unauthorized`, `unreachable`, `not_a_registry`, `rate_limited`,
   * `error`), with the deciding status, the latency and a secret-free message.
   * @throws TypeError when the target URL is malformed (a caller bug)
   * @throws the signal's reason when the caller aborts, unless it is a
   *   `TimeoutError` (the probe's deadline: `unreachable`)
   */
  ping(target: UpstreamTarget, opts?: PingOptions): Promise<UpstreamPing>;
}
