import { type ErrorCode, ErrorCodes } from '@vreg/contracts';

/** How each error code reaches an OCI client: the spec's code and the HTTP status. */
export const ociErrorTable: Readonly<Record<ErrorCode, { ociCode: string; status: number }>> = {
  [ErrorCodes.nameInvalid]: { ociCode: 'NAME_INVALID', status: 400 },
  [ErrorCodes.nameUnknown]: { ociCode: 'NAME_UNKNOWN', status: 404 },
  [ErrorCodes.manifestUnknown]: { ociCode: 'MANIFEST_UNKNOWN', status: 404 },
  [ErrorCodes.manifestInvalid]: { ociCode: 'MANIFEST_INVALID', status: 502 },
  [ErrorCodes.blobUnknown]: { ociCode: 'BLOB_UNKNOWN', status: 404 },
  [ErrorCodes.digestInvalid]: { ociCode: 'DIGEST_INVALID', status: 400 },
  [ErrorCodes.unsupported]: { ociCode: 'UNSUPPORTED', status: 405 },
  [ErrorCodes.unauthorized]: { ociCode: 'UNAUTHORIZED', status: 401 },
  [ErrorCodes.denied]: { ociCode: 'DENIED', status: 403 },
  [ErrorCodes.policyDenied]: { ociCode: 'DENIED', status: 403 },
  [ErrorCodes.tooManyRequests]: { ociCode: 'TOOMANYREQUESTS', status: 429 },
  [ErrorCodes.rangeInvalid]: { ociCode: 'RANGE_INVALID', status: 416 },
  [ErrorCodes.upstreamUnavailable]: { ociCode: 'UNAVAILABLE', status: 503 },
  [ErrorCodes.upstreamAuthFailed]: { ociCode: 'UNAVAILABLE', status: 502 },
  [ErrorCodes.upstreamRateLimited]: { ociCode: 'TOOMANYREQUESTS', status: 429 },
  [ErrorCodes.blobDigestMismatch]: { ociCode: 'UNAVAILABLE', status: 502 },
  // A policy refusal, not an outage: clients report DENIED with the message and do not retry.
  [ErrorCodes.blobTooLarge]: { ociCode: 'DENIED', status: 403 },
  [ErrorCodes.blobStoreUnavailable]: { ociCode: 'UNAVAILABLE', status: 503 },
  [ErrorCodes.catalogUnavailable]: { ociCode: 'UNAVAILABLE', status: 503 },
  [ErrorCodes.fetcherUnavailable]: { ociCode: 'UNAVAILABLE', status: 503 },
  [ErrorCodes.fillLeaseUnavailable]: { ociCode: 'UNAVAILABLE', status: 503 },
  // Past the per-upstream bound on running fills: come back after Retry-After.
  [ErrorCodes.upstreamBusy]: { ociCode: 'UNAVAILABLE', status: 503 },
  // An upstream configured at an internal address: the registry's setup is wrong, not the request.
  [ErrorCodes.upstreamAddressBlocked]: { ociCode: 'UNAVAILABLE', status: 502 },
  // The consumers' "not yet" and "never": they never reach a client; if one did, the client may retry the first.
  [ErrorCodes.fillInProgress]: { ociCode: 'UNAVAILABLE', status: 503 },
  [ErrorCodes.gcInProgress]: { ociCode: 'UNAVAILABLE', status: 503 },
  [ErrorCodes.permanentFailure]: { ociCode: 'UNKNOWN', status: 500 },
  [ErrorCodes.validationFailed]: { ociCode: 'NAME_INVALID', status: 400 },
  [ErrorCodes.notFound]: { ociCode: 'NAME_UNKNOWN', status: 404 },
  [ErrorCodes.conflict]: { ociCode: 'DENIED', status: 409 },
  [ErrorCodes.configInvalid]: { ociCode: 'UNKNOWN', status: 500 },
  [ErrorCodes.internal]: { ociCode: 'UNKNOWN', status: 500 },
};

/** The OCI error body and status for any thrown value; unknown errors are 500 UNKNOWN without internals. */
export function toOciError(err: unknown): {
  status: number;
  body: { errors: Array<{ code: string; message: string; detail?: unknown }> };
  retryAfterSeconds?: number;
} {
  const code = (err as { code?: unknown })?.code;
  const mapped = typeof code === 'string' ? ociErrorTable[code as ErrorCode] : undefined;
  if (!mapped) return { status: 500, body: { errors: [{ code: 'UNKNOWN', message: 'internal error' }] } };
  const e = err as { message: string; detail?: unknown; retryAfterSeconds?: number };
  const entry: { code: string; message: string; detail?: unknown } = { code: mapped.ociCode, message: e.message };
  if (e.detail !== undefined) entry.detail = e.detail;
  return {
    status: mapped.status,
    body: { errors: [entry] },
    ...(e.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: e.retryAfterSeconds }),
  };
}
