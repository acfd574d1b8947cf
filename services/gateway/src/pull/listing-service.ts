import { ErrorCodes, hasCode, MediaTypes, NameUnknownError, type RegistryView, type UpstreamView } from '@vreg/contracts';
import { type FillDeps, firstUpstreamWith, readBounded, toUpstreamTarget } from '@vreg/fill';
import type { UpstreamResponse } from '@vreg/upstream-client';
import { LRUCache } from 'lru-cache';
import type { ManifestService } from './manifest-service.ts';
import { type CacheResult, CacheResults } from './served-object.ts';

/** A tag list or referrers index, ready to send. */
export interface Listing {
  body: Buffer;
  contentType: string;
  /** Pagination `Link` header, already pointing into this registry. */
  link?: string;
  /** Set when the artifactType filter was applied (OCI-Filters-Applied). */
  filtersApplied?: string;
  cache: CacheResult;
}

const MAX_LISTING_BYTES = 4 << 20;

/**
 * Tag lists and referrers, passed through from the first upstream that knows
 * the repository and cached for the upstream's tag window (served stale when
 * the upstream fails). Referrers fall back to the OCI tag schema
 * (`sha256-<hex>`) for upstreams without the referrers API.
 */
export class ListingService {
  readonly #deps: { fill: FillDeps; manifests: ManifestService };
  // A stale listing stays (noDeleteOnStaleGet) to answer when the upstream fails.
  readonly #cache = new LRUCache<string, Omit<Listing, 'cache'>>({ max: 10_000, noDeleteOnStaleGet: true });

  constructor(deps: { fill: FillDeps; manifests: ManifestService }) {
    this.#deps = deps;
  }

  async tags(registry: RegistryView, image: string, query: { n?: number; last?: string }, pullPrefix: string): Promise<Listing> {
    const key = `tags|${registry.id}|${image}|${query.n ?? ''}|${query.last ?? ''}`;
    return this.#cached(key, async () => {
      const { upstream, value } = await firstUpstreamWith(
        registry.upstreams,
        async (u) => this.#read(await this.#deps.fill.upstreams.getTagList(toUpstreamTarget(u, this.#deps.fill.secrets), image, query)),
        () => new NameUnknownError('repository name not known to any upstream of this registry', { name: image }),
      );
      const link = rewriteLink(value.res.headers.link, pullPrefix, image);
      return { upstream, listing: { body: value.body, contentType: 'application/json', ...(link ? { link } : {}) } };
    });
  }

  async referrers(registry: RegistryView, image: string, digest: string, artifactType: string | undefined): Promise<Listing> {
    const key = `referrers|${registry.id}|${image}|${digest}|${artifactType ?? ''}`;
    return this.#cached(key, async () => {
      try {
        const { upstream, value } = await firstUpstreamWith(
          registry.upstreams,
          async (u) =>
            this.#read(
              await this.#deps.fill.upstreams.getReferrers(
                toUpstreamTarget(u, this.#deps.fill.secrets),
                image,
                digest,
                artifactType ? { artifactType } : {},
              ),
            ),
          () => new NameUnknownError('no referrers API upstream'),
        );
        const filtered =
          value.res.headers['oci-filters-applied'] === undefined && artifactType ? filterIndex(value.body, artifactType) : value.body;
        return {
          upstream,
          listing: { body: filtered, contentType: MediaTypes.ociIndex, ...(artifactType ? { filtersApplied: 'artifactType' } : {}) },
        };
      } catch (err) {
        if (!hasCode(err, ErrorCodes.nameUnknown)) throw err;
        return { upstream: undefined, listing: await this.#fromTagSchema(registry, image, digest, artifactType) };
      }
    });
  }

  /** The referrers tag schema: an index tagged `sha256-<hex>`, or an empty index when there is none. */
  async #fromTagSchema(
    registry: RegistryView,
    image: string,
    digest: string,
    artifactType: string | undefined,
  ): Promise<Omit<Listing, 'cache'>> {
    const tag = digest.replace(':', '-');
    let body: Buffer = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: [] }));
    try {
      const served = await this.#deps.manifests.get(registry, image, tag, { withBody: true });
      if (served.body) body = Buffer.isBuffer(served.body) ? served.body : await readBounded(served.body, MAX_LISTING_BYTES);
    } catch (err) {
      if (!hasCode(err, ErrorCodes.manifestUnknown)) throw err;
    }
    return {
      body: artifactType ? filterIndex(body, artifactType) : body,
      contentType: MediaTypes.ociIndex,
      ...(artifactType ? { filtersApplied: 'artifactType' } : {}),
    };
  }

  async #read(res: UpstreamResponse | undefined): Promise<{ res: UpstreamResponse; body: Buffer } | undefined> {
    return res && { res, body: await readBounded(res.body, MAX_LISTING_BYTES) };
  }

  /** Fresh cache → hit; else ask; upstream trouble with a cached copy → stale. */
  async #cached(
    key: string,
    load: () => Promise<{ upstream: UpstreamView | undefined; listing: Omit<Listing, 'cache'> }>,
  ): Promise<Listing> {
    const fresh = this.#cache.get(key);
    if (fresh) return { ...fresh, cache: CacheResults.hit };
    try {
      const { upstream, listing } = await load();
      const hours = upstream?.cacheValidityHours ?? 24;
      // lru-cache's ttl 0 is "never stale", as the upstream's 0 hours is.
      this.#cache.set(key, listing, { ttl: hours * 3_600_000 });
      return { ...listing, cache: CacheResults.miss };
    } catch (err) {
      const stale = this.#cache.peek(key, { allowStale: true });
      if (stale && !hasCode(err, ErrorCodes.nameUnknown)) return { ...stale, cache: CacheResults.stale };
      throw err;
    }
  }
}

/** Keeps the descriptors of `artifactType` in an OCI index; bytes unparseable as an index pass unchanged. */
function filterIndex(body: Buffer, artifactType: string): Buffer {
  try {
    const index = JSON.parse(body.toString('utf8')) as { manifests?: Array<{ artifactType?: string }> };
    return Buffer.from(JSON.stringify({ ...index, manifests: (index.manifests ?? []).filter((m) => m.artifactType === artifactType) }));
  } catch {
    return body;
  }
}

/** Points an upstream's `Link: </v2/<image>/tags/list?...>; rel="next"` at this registry's path. */
function rewriteLink(link: string | undefined, pullPrefix: string, image: string): string | undefined {
  const m = link?.match(/<[^>?]*(\?[^>]*)?>(.*)$/);
  if (!m) return undefined;
  return `<${pullPrefix}/${image}/tags/list${m[1] ?? ''}>${m[2]}`;
}
