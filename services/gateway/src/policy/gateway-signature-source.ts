import type { Readable } from 'node:stream';
import type { BlobStore } from '@vreg/blob-store';
import { AppError, ErrorCodes, hasCode, NameUnknownError, type RegistryView } from '@vreg/contracts';
import { type FillDeps, fillManifest, firstUpstreamWith, readBounded, toUpstreamTarget } from '@vreg/fill';
import type { FetchedManifest, SignatureSource } from '@vreg/policy';
import type { CatalogClient } from '../ports/catalog-client.ts';
import type { BlobService } from '../pull/blob-service.ts';
import type { ListingService } from '../pull/listing-service.ts';
import type { ManifestService } from '../pull/manifest-service.ts';
import { bodyOf } from '../pull/served-object.ts';

export interface GatewaySignatureSourceDeps {
  manifests: ManifestService;
  listings: ListingService;
  blobs: BlobService;
  store: BlobStore;
  fill: FillDeps;
  catalog: CatalogClient;
  /** Deadline of one signature artifact read, ms. */
  timeoutMs: number;
}

/**
 * Signature artifacts read through the gateway's own pull services: cached,
 * recorded and revalidated exactly like the images they sign (a `.sig` tag
 * is a tag, with the upstream's validity window; its payload a blob).
 * Verifying a cached image therefore asks the upstream nothing, and the
 * artifacts can be pulled, purged and counted like any other content.
 */
export class GatewaySignatureSource implements SignatureSource {
  readonly #deps: GatewaySignatureSourceDeps;
  readonly #registry: RegistryView;

  constructor(deps: GatewaySignatureSourceDeps, registry: RegistryView) {
    this.#deps = deps;
    this.#registry = registry;
  }

  async manifest(image: string, reference: string): Promise<FetchedManifest | undefined> {
    try {
      const served = await this.#deps.manifests.get(this.#registry, image, reference, {
        withBody: true,
        signal: AbortSignal.timeout(this.#deps.timeoutMs),
      });
      return {
        digest: served.digest,
        bytes: await bytesOf(served.body, this.#deps.fill.manifestMaxBytes),
        contentType: served.contentType,
      };
    } catch (err) {
      if (hasCode(err, ErrorCodes.manifestUnknown)) return undefined;
      throw err;
    }
  }

  /** A signature tag asked of the upstream again (the cached copy refused): stored and recorded like a pull's fill. */
  async freshManifest(image: string, reference: string): Promise<FetchedManifest | undefined> {
    try {
      const filled = await fillManifest(this.#deps.fill, this.#registry, image, reference, AbortSignal.timeout(this.#deps.timeoutMs));
      for (const entry of filled.entries) this.#deps.catalog.remember(this.#registry.id, entry);
      return { digest: filled.digest, bytes: filled.bytes, contentType: filled.contentType };
    } catch (err) {
      if (hasCode(err, ErrorCodes.manifestUnknown)) return undefined;
      throw err;
    }
  }

  async referrers(image: string, digest: string): Promise<Buffer | undefined> {
    return (await this.#deps.listings.referrers(this.#registry, image, digest, undefined)).body;
  }

  /**
   * The referrers asked of the upstream again (the cached listing refused):
   * its referrers API, else its tag schema's index read fresh. The pull
   * path's listing keeps its own window; this only serves the judgement.
   */
  async freshReferrers(image: string, digest: string): Promise<Buffer | undefined> {
    const { fill } = this.#deps;
    const signal = AbortSignal.timeout(this.#deps.timeoutMs);
    try {
      const { value } = await firstUpstreamWith(
        this.#registry.upstreams,
        (u) => fill.upstreams.getReferrers(toUpstreamTarget(u, fill.secrets), image, digest, {}, { signal }),
        () => new NameUnknownError('no referrers API upstream'),
      );
      return await readBounded(value.body, fill.manifestMaxBytes);
    } catch (err) {
      if (!hasCode(err, ErrorCodes.nameUnknown)) throw err;
      return (await this.freshManifest(image, digest.replace(':', '-')))?.bytes;
    }
  }

  async blob(image: string, digest: string, maxBytes: number): Promise<Buffer> {
    const served = await this.#deps.blobs.get(this.#registry, image, digest, undefined, AbortSignal.timeout(this.#deps.timeoutMs));
    if (served.redirect === undefined) return bytesOf(bodyOf(served), maxBytes);
    // A hit sent as a presigned redirect: the registry's entry authorizes it, read the bytes from the store ourselves.
    const read = await this.#deps.store.get(digest);
    if (read === undefined) throw new AppError(ErrorCodes.blobUnknown, `signature blob ${digest} vanished from the store`);
    return readBounded(read.body, maxBytes);
  }
}

async function bytesOf(body: Readable | Buffer | undefined, maxBytes: number): Promise<Buffer> {
  if (body === undefined) return Buffer.alloc(0);
  if (Buffer.isBuffer(body)) {
    if (body.length > maxBytes) throw new AppError(ErrorCodes.manifestInvalid, `signature artifact larger than ${maxBytes} bytes`);
    return body;
  }
  return readBounded(body, maxBytes);
}
