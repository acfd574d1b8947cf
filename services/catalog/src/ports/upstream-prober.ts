import type { UpstreamTestReply, UpstreamTestRequest } from '@vreg/contracts';

/**
 * Probes an upstream on the catalog's behalf. The catalog makes no upstream
 * HTTP calls itself: the fetcher, which owns upstream HTTP, does.
 */
export interface UpstreamProber {
  /**
   * Tests the upstream in `request` (its password already sealed) within
   * `request.timeoutMs`.
   * @returns what the probe found; every upstream outcome is a reply, not an error
   * @throws FetcherUnavailableError (`FETCHER_UNAVAILABLE`) when no fetcher answers
   */
  probe(request: UpstreamTestRequest): Promise<UpstreamTestReply>;
}
