import { AppError, DigestSchema, ErrorCodes, MediaTypes, UnsupportedError } from '@vreg/contracts';

/** An OCI/Docker platform, as an index descriptor names it. */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** A content descriptor: what a manifest points to. */
export interface Descriptor {
  mediaType?: string;
  digest: string;
  /** Bytes. */
  size: number;
  platform?: Platform;
}

/** A manifest as a warm-up needs it: an index's children, or an image's blobs. */
export type ImageManifest = { kind: 'index'; manifests: Descriptor[] } | { kind: 'image'; config: Descriptor; layers: Descriptor[] };

const INDEX_TYPES = new Set<string>([MediaTypes.ociIndex, MediaTypes.dockerManifestList]);

// Foreign layers (Windows base layers) are fetched by clients from their `urls`, never from the registry.
const FOREIGN_LAYER = /\.foreign\./;

/**
 * Reads an index or image manifest (OCI or Docker schema 2).
 * @throws MANIFEST_INVALID for bytes that are not such a manifest; UNSUPPORTED for schema 1.
 */
export function parseImageManifest(bytes: Buffer, contentType: string): ImageManifest {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw invalid('the manifest is not JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw invalid('the manifest is not a JSON object');
  const mediaType = typeof doc.mediaType === 'string' ? doc.mediaType : contentType.split(';')[0]!.trim();
  if (doc.schemaVersion === 1 || Array.isArray(doc.fsLayers)) throw new UnsupportedError('Docker schema 1 manifests cannot be warmed');
  if (INDEX_TYPES.has(mediaType) || (Array.isArray(doc.manifests) && doc.config === undefined)) {
    if (!Array.isArray(doc.manifests)) throw invalid('the index has no manifests array');
    return { kind: 'index', manifests: doc.manifests.map((d, i) => descriptor(d, `manifests[${i}]`)) };
  }
  if (doc.config === undefined || !Array.isArray(doc.layers)) throw invalid('the manifest has neither manifests nor config and layers');
  const layers = doc.layers.map((d, i) => descriptor(d, `layers[${i}]`)).filter((d) => !FOREIGN_LAYER.test(d.mediaType ?? ''));
  return { kind: 'image', config: descriptor(doc.config, 'config'), layers };
}

function descriptor(value: unknown, where: string): Descriptor {
  if (typeof value !== 'object' || value === null) throw invalid(`${where} is not a descriptor`);
  const d = value as Record<string, unknown>;
  if (typeof d.digest !== 'string' || !DigestSchema.safeParse(d.digest).success) throw invalid(`${where} has no sha256/sha512 digest`);
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) throw invalid(`${where} has no valid size`);
  const out: Descriptor = { digest: d.digest, size: d.size };
  if (typeof d.mediaType === 'string') out.mediaType = d.mediaType;
  const p = d.platform as Record<string, unknown> | undefined;
  if (p && typeof p.os === 'string' && typeof p.architecture === 'string') {
    out.platform = {
      os: p.os,
      architecture: p.architecture,
      ...(typeof p.variant === 'string' && p.variant !== '' ? { variant: p.variant } : {}),
    };
  }
  return out;
}

function invalid(message: string): AppError {
  return new AppError(ErrorCodes.manifestInvalid, message);
}
