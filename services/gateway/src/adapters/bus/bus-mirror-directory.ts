import type { EventBus } from '@vreg/bus';
import { CatalogUnavailableError, ErrorCodes, hasCode, MirrorResolveReplySchema, Subjects } from '@vreg/contracts';
import type { Logger } from '@vreg/logging';
import { LruCache } from '../../domain/lru-cache.ts';
import type { MirrorDirectory } from '../../ports/mirror-directory.ts';

export interface BusMirrorDirectoryOptions {
  /** Milliseconds an answer (a registry, or none) is reused: as long as a registry lookup, so a change lands as fast. */
  ttlMs: number;
  /** Request timeout, ms. */
  timeoutMs: number;
}

/**
 * Asks the catalog which registry mirrors a host (`vreg.catalog.mirror.resolve`)
 * and remembers the answer briefly, "none" included: a client sending
 * made-up `ns` values costs one catalog request per host and window, and
 * the hosts remembered are bounded. When the catalog cannot answer, the last
 * answer is used, as registry lookups do.
 */
export class BusMirrorDirectory implements MirrorDirectory {
  readonly #bus: EventBus;
  readonly #log: Logger;
  readonly #options: BusMirrorDirectoryOptions;
  readonly #answers = new LruCache<string, string | undefined>(1_000);

  constructor(bus: EventBus, logger: Logger, options: BusMirrorDirectoryOptions) {
    this.#bus = bus;
    this.#log = logger;
    this.#options = options;
  }

  async registryFor(host: string): Promise<string | undefined> {
    const cached = this.#answers.get(host);
    if (cached?.fresh) return cached.value;
    try {
      const reply = await this.#bus.request(
        Subjects.mirrorResolve,
        { host },
        { schema: MirrorResolveReplySchema, timeoutMs: this.#options.timeoutMs },
      );
      this.#answers.set(host, reply.registryId, this.#options.ttlMs);
      return reply.registryId;
    } catch (err) {
      const unavailable = hasCode(err, ErrorCodes.catalogUnavailable) || hasCode(err, ErrorCodes.internal);
      if (cached && unavailable) {
        this.#log.warn({ host }, 'catalog unavailable: using the cached mirror route');
        this.#answers.set(host, cached.value, this.#options.ttlMs);
        return cached.value;
      }
      if (hasCode(err, ErrorCodes.internal))
        throw new CatalogUnavailableError(`the catalog failed to answer ${Subjects.mirrorResolve}`, err);
      throw err;
    }
  }
}
