import type { CacheEntryView, RegistryView } from '@vreg/contracts';
import { type FillDeps, publishStored, toUpstreamTarget } from '@vreg/fill';
import type { Logger } from '@vreg/logging';
import type { UpstreamRegistry } from '@vreg/upstream-client';
import type { CatalogClient } from '../ports/catalog-client.ts';

export type RevalidationOutcome = 'unchanged' | 'changed' | 'failed';

/**
 * Asks a tag entry's upstream, with a HEAD (the same Accept as every fill,
 * so an unchanged tag answers the cached digest), whether the tag still
 * points at the cached digest. Unchanged → only the
 * entry's checked-at time moves (one HEAD, no download). Any upstream
 * trouble (down, timeout, 429, 5xx) → `failed`: the caller serves the
 * cached copy, marked stale.
 */
export class TagRevalidator {
  readonly #deps: { fill: FillDeps; catalog: CatalogClient; upstreams: UpstreamRegistry; logger: Logger };

  constructor(deps: { fill: FillDeps; catalog: CatalogClient; upstreams: UpstreamRegistry; logger: Logger }) {
    this.#deps = deps;
  }

  async revalidate(
    registry: RegistryView,
    image: string,
    reference: string,
    entry: CacheEntryView,
    signal?: AbortSignal,
  ): Promise<RevalidationOutcome> {
    const upstream = registry.upstreams.find((u) => u.id === entry.upstreamId);
    if (!upstream) return 'changed';
    try {
      const head = await this.#deps.upstreams.headManifest(
        toUpstreamTarget(upstream, this.#deps.fill.secrets),
        image,
        reference,
        signal ? { signal } : {},
      );
      if (head === undefined || head.dockerContentDigest !== entry.digest) return 'changed';
      const touched: CacheEntryView = { ...entry, upstreamCheckedAt: new Date().toISOString() };
      this.#deps.catalog.remember(registry.id, touched);
      await publishStored(this.#deps.fill.bus, registry.id, [touched], new Date()).catch((err: Error) =>
        this.#deps.logger.warn({ err: err.message }, 'publishing the revalidated entry failed'),
      );
      return 'unchanged';
    } catch (err) {
      this.#deps.logger.warn(
        { registryId: registry.id, upstreamId: upstream.id, code: (err as { code?: string }).code },
        'tag revalidation failed: serving the cached manifest',
      );
      return 'failed';
    }
  }
}
