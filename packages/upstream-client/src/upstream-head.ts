import type { IncomingHttpHeaders } from 'node:http';
import type { UpstreamHead } from './upstream-registry.ts';

/**
 * Flattens undici's response headers into the port's shape: names
 * lower-cased (undici already does), repeated headers joined by `, `,
 * `set-cookie` dropped (a registry session cookie is nobody's business
 * downstream).
 */
export function toHeaderRecord(headers: IncomingHttpHeaders): Record<string, string> {
  const record: Record<string, string> = {};
  for (const [rawName, value] of Object.entries(headers)) {
    const name = rawName.toLowerCase();
    if (name === 'set-cookie' || value === undefined) continue;
    record[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return record;
}

/** The first value of a header that may have been repeated. */
export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The upstream's metadata for an object, read from its response headers. */
export function toUpstreamHead(headers: IncomingHttpHeaders): UpstreamHead {
  const record = toHeaderRecord(headers);
  const head: UpstreamHead = { headers: record };
  const contentType = record['content-type'];
  if (contentType !== undefined) head.contentType = contentType;
  const contentLength = parseContentLength(record['content-length']);
  if (contentLength !== undefined) head.contentLength = contentLength;
  const digest = record['docker-content-digest'];
  if (digest !== undefined) head.dockerContentDigest = digest;
  const etag = record['etag'];
  if (etag !== undefined) head.etag = etag;
  return head;
}

/** A non-negative integer `Content-Length`, or `undefined` when absent or malformed. */
export function parseContentLength(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value.trim())) return undefined;
  const n = Number(value.trim());
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * Seconds to wait according to `Retry-After` (RFC 9110 §10.2.3): either
 * delta-seconds or an HTTP date, rounded up and never negative.
 * @param now current time in ms since the epoch
 * @returns `undefined` when absent or malformed
 */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  if (!/[a-z]/i.test(trimmed)) return undefined; // a bare "-5" or "1.5" is no date
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - now) / 1000));
}
