import type { WarmRequested } from '@vreg/contracts';

/**
 * Hands a warm command to the fetchers. The catalog makes no upstream HTTP
 * calls itself: the fetcher, which owns upstream HTTP, warms the image.
 */
export interface WarmDispatcher {
  /**
   * Queues the command durably (at most once per job id).
   * @throws FetcherUnavailableError (`FETCHER_UNAVAILABLE`) when the command cannot be queued
   */
  dispatch(command: WarmRequested): Promise<void>;
}
