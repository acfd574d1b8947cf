import { ErrorCodes, hasCode, NameUnknownError, type RegistryView } from '@vreg/contracts';
import { firstUpstreamWith, readBounded, toUpstreamTarget } from '@vreg/fill';
import type { FetchedManifest, SignatureSource } from '@vreg/policy';
import { type BlobWarmerDeps, warmBlob } from './blob-warmer.ts';
import { warmManifest } from './manifest-warmer.ts';

const MAX_REFERRERS_BYTES = 4 << 20;

/**
 * Signature artifacts for a warm-up, fetched the way the warm fetches the
 * image: stored and recorded in the registry's cache, so the pulls the warm
 * prepares find them there (and a gateway verifies them without asking the
 * upstream). A warm always asks for tags again: a `.sig` tag is read fresh.
 */
export class WarmSignatureSource implements SignatureSource {
  readonly #deps: BlobWarmerDeps;
  readonly #registry: RegistryView;
  readonly #signal: AbortSignal;

  constructor(deps: BlobWarmerDeps, registry: RegistryView, signal: AbortSignal) {
    this.#deps = deps;
    this.#registry = registry;
    this.#signal = signal;
  }

  async manifest(image: string, reference: string): Promise<FetchedManifest | undefined> {
    try {
      const warmed = await warmManifest(this.#deps, this.#registry, image, reference, this.#signal);
      return { digest: warmed.digest, bytes: warmed.bytes, contentType: warmed.contentType };
    } catch (err) {
      if (hasCode(err, ErrorCodes.manifestUnknown)) return undefined;
      throw err;
    }
  }

  async referrers(image: string, digest: string): Promise<Buffer | undefined> {
    const fill = this.#deps.fill;
    try {
      const { value } = await firstUpstreamWith(
        this.#registry.upstreams,
        (u) => fill.upstreams.getReferrers(toUpstreamTarget(u, fill.secrets), image, digest, {}, { signal: this.#signal }),
        () => new NameUnknownError('no referrers API upstream'),
      );
      return await readBounded(value.body, MAX_REFERRERS_BYTES);
    } catch (err) {
      if (!hasCode(err, ErrorCodes.nameUnknown)) throw err;
      // No referrers API: the OCI tag schema's index.
      return (await this.manifest(image, digest.replace(':', '-')))?.bytes;
    }
  }

  async blob(image: string, digest: string, maxBytes: number): Promise<Buffer> {
    await warmBlob(this.#deps, this.#registry, image, digest, this.#signal);
    const read = await this.#deps.fill.store.get(digest);
    if (read === undefined) throw new NameUnknownError(`signature blob ${digest} is not in the store after warming it`);
    return readBounded(read.body, maxBytes);
  }
}
