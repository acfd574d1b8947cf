import { BlobStoreUnavailableError } from '../errors.ts';

/** The HTTP status of an AWS SDK error, if it carries one. */
export function s3Status(err: unknown): number | undefined {
  const status = (err as { $metadata?: { httpStatusCode?: unknown } } | undefined)?.$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

/** The error name (S3 error code) of an AWS SDK error, e.g. `NoSuchKey`. */
export function s3ErrorName(err: unknown): string | undefined {
  const name = (err as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' ? name : undefined;
}

/**
 * True when S3 says the object does not exist. HeadObject answers a bare 404
 * (`NotFound`), GetObject `NoSuchKey`; a missing bucket is *not* "not found"
 * for a blob but a misconfiguration, so `NoSuchBucket` stays an error.
 */
export function isS3NotFound(err: unknown): boolean {
  const name = s3ErrorName(err);
  if (name === 'NoSuchBucket') return false;
  return name === 'NoSuchKey' || name === 'NotFound' || s3Status(err) === 404;
}

/**
 * Runs one S3 request, translating failures at the edge: when `signal` has
 * fired the abort reason is rethrown as is, anything else becomes a
 * `BlobStoreUnavailableError` keeping the SDK error as `cause`. Callers that
 * treat some errors specially (not found) pass `passThrough`.
 */
export async function s3Call<T>(
  what: string,
  signal: AbortSignal | undefined,
  request: () => Promise<T>,
  passThrough: (err: unknown) => boolean = () => false,
): Promise<T> {
  try {
    return await request();
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    if (passThrough(err)) throw err;
    throw new BlobStoreUnavailableError(`S3 ${what} failed: ${s3ErrorName(err) ?? 'error'}`, err);
  }
}
