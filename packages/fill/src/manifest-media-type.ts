import { AppError, ErrorCodes, isManifestMediaType } from '@vreg/contracts';

/**
 * The media type an upstream's manifest is stored and served under, or
 * MANIFEST_INVALID when it is not a manifest.
 *
 * Everything vreg serves comes from its own origin, where the console also
 * lives: a body an upstream labels `text/html` (a compromised upstream, or
 * one reached over plain http) must never go out under that label. So a
 * manifest is accepted only as one of the OCI and Docker manifest and index
 * types (an OCI 1.1 artifact is an OCI image manifest with an artifactType,
 * so it passes as one) and only when its body is a JSON object. A response
 * with no type, or the generic `application/json`, passes under the type
 * its own `mediaType` field names when that is one of them. Parameters
 * (`; charset=utf-8`) are dropped: the type alone is stored.
 */
export function acceptedManifestType(contentType: string | undefined, bytes: Buffer): string {
  const declared = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  const generic = declared === '' || declared === 'application/json';
  if (!generic && !isManifestMediaType(declared))
    throw invalid(`the upstream answered a manifest as ${describe(declared)}, which is not an OCI or Docker manifest type: refused`);
  let body: unknown;
  try {
    body = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw invalid(`the upstream's manifest (${describe(declared)}) is not JSON: refused`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw invalid(`the upstream's manifest (${describe(declared)}) is not a JSON object: refused`);
  if (!generic) return declared;
  const named = (body as { mediaType?: unknown }).mediaType;
  if (typeof named === 'string' && isManifestMediaType(named)) return named;
  throw invalid(`the upstream answered a manifest as ${describe(declared)} naming no OCI or Docker manifest type: refused`);
}

const describe = (type: string): string => (type === '' ? 'no Content-Type' : JSON.stringify(type.slice(0, 100)));

const invalid = (message: string): AppError => new AppError(ErrorCodes.manifestInvalid, message);
