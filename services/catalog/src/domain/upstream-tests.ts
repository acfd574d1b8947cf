import { NotFoundError, type UpstreamTestReply, type UpstreamTestRequest, ValidationError } from '@vreg/contracts';
import type { UpstreamProber } from '../ports/upstream-prober.ts';
import type { UpstreamRepository } from '../ports/upstream-repository.ts';
import type { PasswordSealer } from './catalog-admin.ts';
import { normalizeUpstreamUrl } from './upstream-url.ts';

/** Deadline of one test connection, in ms, unless configured. */
export const DEFAULT_UPSTREAM_TEST_TIMEOUT_MS = 10_000;

/** An upstream an administrator is about to add: tested, never stored. */
export interface UpstreamCandidate {
  url: string;
  username?: string;
  /** In clear, once: sealed before it leaves the catalog. */
  password?: string;
}

/**
 * Test connection to an upstream, as GitLab's "Test upstream": a stored
 * upstream with its sealed credentials, or a candidate from the request.
 * The probe itself runs in the fetcher ({@link UpstreamProber}); the
 * password crosses the bus only sealed.
 */
export class UpstreamTests {
  readonly #upstreams: Pick<UpstreamRepository, 'get'>;
  readonly #sealer: PasswordSealer;
  readonly #prober: UpstreamProber;
  readonly #timeoutMs: number;

  constructor(deps: { upstreams: Pick<UpstreamRepository, 'get'>; sealer: PasswordSealer; prober: UpstreamProber; timeoutMs?: number }) {
    this.#upstreams = deps.upstreams;
    this.#sealer = deps.sealer;
    this.#prober = deps.prober;
    this.#timeoutMs = deps.timeoutMs ?? DEFAULT_UPSTREAM_TEST_TIMEOUT_MS;
  }

  /**
   * Tests a stored upstream with its stored credentials.
   * @throws NotFoundError, FetcherUnavailableError
   */
  async testStored(id: string): Promise<UpstreamTestReply> {
    const upstream = await this.#upstreams.get(id);
    if (upstream === undefined) throw new NotFoundError('upstream not found', { upstreamId: id });
    return this.#prober.probe(this.#request(upstream.url, upstream.username, upstream.passwordSealed));
  }

  /**
   * Tests an upstream that is not stored. The URL follows the rules of a
   * stored one (http(s), no credentials, query or fragment), and a password
   * needs a username.
   * @throws ValidationError, FetcherUnavailableError
   */
  async testCandidate(candidate: UpstreamCandidate): Promise<UpstreamTestReply> {
    const url = normalizeUpstreamUrl(candidate.url);
    if (candidate.password !== undefined && candidate.username === undefined) {
      throw new ValidationError('a password needs a username', { field: 'username' });
    }
    const sealed = candidate.password === undefined ? undefined : this.#sealer.seal(candidate.password);
    return this.#prober.probe(this.#request(url, candidate.username, sealed));
  }

  #request(url: string, username: string | undefined, passwordSealed: string | undefined): UpstreamTestRequest {
    return {
      url,
      ...(username === undefined ? {} : { username }),
      ...(passwordSealed === undefined ? {} : { passwordSealed }),
      timeoutMs: this.#timeoutMs,
    };
  }
}
