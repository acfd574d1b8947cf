import type { Readable } from 'node:stream';
import type { BlobRead } from '@vreg/blob-store';
import type { SatisfiedRange } from '../domain/byte-range.ts';

/** How a pull was answered, for headers, logs and metrics. */
export const CacheResults = {
  hit: 'hit',
  miss: 'miss',
  /** Served from the cache after the upstream failed to revalidate a tag. */
  stale: 'stale',
  /** Joined a fill already running in this process: no extra upstream download. */
  coalesced: 'coalesced',
} as const;
export type CacheResult = (typeof CacheResults)[keyof typeof CacheResults];

/** A manifest or blob ready to be written to the client. */
export interface ServedObject {
  digest: string;
  /** A manifest's media type (checked to be one when it was filled); for a blob, the upstream's, which is never sent (blobs go out as application/octet-stream). */
  contentType: string;
  /** Bytes; undefined only when an upstream sent no Content-Length. */
  size: number | undefined;
  /** The bytes (GET); absent for HEAD and for `read`. With `range`, only those bytes. */
  body?: Readable | Buffer;
  /** A stored object's open read (GET of a hit), written to the client by the route, once. */
  read?: BlobRead;
  /** A presigned store URL the client is sent to (307) instead of bytes. */
  redirect?: string;
  /** Set when a byte range is served (206). */
  range?: SatisfiedRange;
  cache: CacheResult;
}

/** The bytes of a served object as one stream or buffer, whichever way they came (a stored read's stream, or the body). */
export function bodyOf(served: Pick<ServedObject, 'body' | 'read'>): Readable | Buffer | undefined {
  return served.read?.body ?? served.body;
}
