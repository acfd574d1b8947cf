import type { Readable } from 'node:stream';
import { AppError, type CacheEntryView, ErrorCodes, ManifestUnknownError, type RegistryView, relativePathOf } from '@vreg/contracts';
import { digestWithAlgorithmOf, isDigest, parseDigest, sha256Digest } from '@vreg/oci';
import { isSchema1Manifest } from '@vreg/upstream-client';
import type { FillDeps } from './fill-deps.ts';
import { acceptedManifestType } from './manifest-media-type.ts';
import { publishStored } from './stored-publisher.ts';
import { firstUpstreamWith } from './upstream-chain.ts';
import { toUpstreamTarget } from './upstream-target.ts';

/** A manifest fetched from an upstream, verified, stored and announced. */
export interface FilledManifest {
  bytes: Buffer;
  digest: string;
  contentType: string;
  upstreamId: string;
  /** The cache entries the fill produced: the tag path (if pulled by tag) and the digest path. */
  entries: CacheEntryView[];
}

/**
 * Fetches a manifest from the first upstream that has it, byte-exact, in
 * the form the upstream stores it (every current type is asked for, so
 * nothing is converted). A manifest by digest must hash to that digest; a
 * manifest by tag must match the upstream's Docker-Content-Digest when one
 * is sent, and any manifest must be one by its type and JSON
 * (acceptedManifestType). Wrong bytes count as that upstream failing, so the
 * next one is tried, and nothing of them is stored. A Docker schema 1
 * manifest is refused like a missing one: when no upstream has anything
 * else, MANIFEST_UNKNOWN says why.
 */
export async function fillManifest(
  deps: FillDeps,
  registry: RegistryView,
  image: string,
  reference: string,
  signal?: AbortSignal,
): Promise<FilledManifest> {
  let schema1 = false;
  const { upstream, value } = await firstUpstreamWith(
    registry.upstreams,
    async (u) => {
      const res = await deps.upstreams.getManifest(toUpstreamTarget(u, deps.secrets), image, reference, signal ? { signal } : {});
      if (res === undefined) return undefined;
      const bytes = await readBounded(res.body, deps.manifestMaxBytes);
      if (isSchema1Manifest(res.contentType, bytes)) {
        deps.logger.info({ upstreamId: u.id, image, reference }, 'upstream manifest is Docker schema 1: refused');
        schema1 = true;
        return undefined;
      }
      const contentType = acceptedManifestType(res.contentType, bytes);
      const digest = verifiedManifestDigest(reference, bytes, res.dockerContentDigest);
      return { bytes, digest, contentType, etag: res.etag };
    },
    () =>
      new ManifestUnknownError(
        schema1
          ? 'the upstream has this manifest only as Docker schema 1, which vreg does not serve: push it as schema 2 or OCI'
          : 'manifest unknown to every upstream of this registry',
        { name: image, reference },
      ),
    (u, err) =>
      deps.logger.warn(
        { upstreamId: u.id, code: (err as { code?: string }).code, err: (err as Error).message },
        'upstream manifest fetch failed',
      ),
  );

  await storeBytes(deps, value.digest, value.bytes);
  const checkedAt = new Date().toISOString();
  const base = {
    upstreamId: upstream.id,
    digest: value.digest,
    contentType: value.contentType,
    size: value.bytes.length,
    upstreamCheckedAt: checkedAt,
    ...(value.etag ? { upstreamEtag: value.etag } : {}),
  };
  const entries: CacheEntryView[] = [{ ...base, relativePath: relativePathOf({ kind: 'manifest', image, reference: value.digest }) }];
  if (!isDigest(reference)) entries.unshift({ ...base, relativePath: relativePathOf({ kind: 'manifest', image, reference }) });
  try {
    await publishStored(deps.bus, registry.id, entries, new Date());
  } catch (err) {
    // The bytes are stored; the fetcher's copy of the request records them later.
    deps.logger.error({ err: (err as Error).message, digest: value.digest }, 'publishing object.stored failed');
  }
  return { bytes: value.bytes, digest: value.digest, contentType: value.contentType, upstreamId: upstream.id, entries };
}

/** The digest the bytes must be served under, or a BLOB_DIGEST_MISMATCH error. */
export function verifiedManifestDigest(reference: string, bytes: Buffer, upstreamDigest: string | undefined): string {
  if (isDigest(reference)) {
    const actual = digestWithAlgorithmOf(reference, bytes);
    if (actual !== reference)
      throw new AppError(ErrorCodes.blobDigestMismatch, 'upstream manifest does not match the requested digest', {
        detail: { expected: reference, actual },
      });
    return reference;
  }
  if (upstreamDigest !== undefined) {
    let supported = true;
    try {
      parseDigest(upstreamDigest);
    } catch {
      supported = false; // an algorithm we cannot check: fall back to our own sha256
    }
    if (supported) {
      const actual = digestWithAlgorithmOf(upstreamDigest, bytes);
      if (actual !== upstreamDigest)
        throw new AppError(ErrorCodes.blobDigestMismatch, 'upstream manifest does not match its Docker-Content-Digest', {
          detail: { expected: upstreamDigest, actual },
        });
      return upstreamDigest;
    }
  }
  return sha256Digest(bytes);
}

/** Reads a small body whole, refusing more than `max` bytes. */
export async function readBounded(body: Readable, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += (chunk as Buffer).length;
    if (total > max) {
      body.destroy();
      throw new AppError(ErrorCodes.manifestInvalid, `upstream manifest larger than ${max} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Content-addressed: an object already stored is not written again. */
async function storeBytes(deps: FillDeps, digest: string, bytes: Buffer): Promise<void> {
  if (await deps.store.stat(digest)) return;
  const writer = await deps.store.beginWrite(digest, { expectedSize: bytes.length });
  try {
    await new Promise<void>((resolve, reject) => writer.stream.end(bytes, (err?: Error | null) => (err ? reject(err) : resolve())));
    await writer.commit();
  } catch (err) {
    await writer.abort(err);
    throw err;
  }
}
