import type { EventBus } from '@vreg/bus';
import { CatalogUnavailableError, ErrorCodes, hasCode, type MirrorResolveReply, MirrorResolveReplySchema, Subjects } from '@vreg/contracts';
import type { Logger } from '@vreg/logging';
import { LRUCache } from 'lru-cache';
import type { MirrorDirectory } from '../../ports/mirror-directory.ts';

export interface BusMirrorDirectoryOptions {
  /** Milliseconds an answer (a registry, or none) is reused: as long as a registry lookup, so a change lands as fast. */
  ttlMs: number;
  /** Request timeout, ms. */
  timeoutMs: number;
}

/** Hosts remembered at most: a client choosing `ns` values cannot grow the cache past it. */
const MAX_HOSTS = 1_000;

/**
 * Asks the catalog which registry mirrors a host (`vreg.catalog.mirror.resolve`)
 * and remembers the answer briefly, "none" included: a client sending
 * made-up `ns` values costs one catalog request per host and window, and
 * the hosts remembered are bounded. An lru-cache `fetch` cache, as the
 * registry lookups: concurrent lookups of a host share one request, and
 * when the catalog cannot answer the last answer is used.
 */
export class BusMirrorDirectory implements MirrorDirectory {
  readonly #bus: EventBus;
  readonly #log: Logger;
  readonly #options: BusMirrorDirectoryOptions;
  readonly #answers: LRUCache<string, MirrorResolveReply>;

  constructor(bus: EventBus, logger: Logger, options: BusMirrorDirectoryOptions) {
    this.#bus = bus;
    this.#log = logger;
    this.#options = options;
    this.#answers = new LRUCache<string, MirrorResolveReply>({
      max: MAX_HOSTS,
      // lru-cache reads 0 as "never stale"; ours means "ask every time", the last answer kept for the fallback.
      ttl: Math.max(1, options.ttlMs),
      // Staleness read off the clock on every lookup, not a clock reading kept for a millisecond: a changed mirror is seen at once.
      ttlResolution: 0,
      noDeleteOnFetchRejection: true,
      ignoreFetchAbort: true,
      fetchMethod: (host, stale) => this.#fetch(host, stale),
    });
  }

  async registryFor(host: string): Promise<string | undefined> {
    const answer = await this.#answers.fetch(host);
    if (answer === undefined) throw new CatalogUnavailableError(`no answer for mirror host ${host}`);
    return answer.registryId;
  }

  async #fetch(host: string, stale: MirrorResolveReply | undefined): Promise<MirrorResolveReply> {
    try {
      return await this.#bus.request(
        Subjects.mirrorResolve,
        { host },
        { schema: MirrorResolveReplySchema, timeoutMs: this.#options.timeoutMs },
      );
    } catch (err) {
      const unavailable = hasCode(err, ErrorCodes.catalogUnavailable) || hasCode(err, ErrorCodes.internal);
      if (stale !== undefined && unavailable) {
        this.#log.warn({ host }, 'catalog unavailable: using the cached mirror route');
        return stale;
      }
      if (hasCode(err, ErrorCodes.internal))
        throw new CatalogUnavailableError(`the catalog failed to answer ${Subjects.mirrorResolve}`, err);
      throw err;
    }
  }
}
