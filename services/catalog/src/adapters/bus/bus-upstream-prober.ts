import type { EventBus } from '@vreg/bus';
import {
  ErrorCodes,
  FetcherUnavailableError,
  hasCode,
  Subjects,
  type UpstreamTestReply,
  UpstreamTestReplySchema,
  type UpstreamTestRequest,
} from '@vreg/contracts';
import type { UpstreamProber } from '../../ports/upstream-prober.ts';

/** Milliseconds the reply may take past the probe's own deadline (bus round trip, opening the password). */
const REPLY_MARGIN_MS = 2_000;

/**
 * Asks a fetcher over request/reply (`vreg.fetcher.upstream.test`); fetcher
 * replicas share the subject. The bus reports "no responder" and "no reply
 * in time" as CATALOG_UNAVAILABLE, its code for any silent peer; here the
 * silent peer is the fetcher, so that becomes FETCHER_UNAVAILABLE with a
 * message an administrator can act on.
 */
export class BusUpstreamProber implements UpstreamProber {
  readonly #bus: EventBus;

  constructor(bus: EventBus) {
    this.#bus = bus;
  }

  async probe(request: UpstreamTestRequest): Promise<UpstreamTestReply> {
    try {
      return await this.#bus.request(Subjects.upstreamTest, request, {
        schema: UpstreamTestReplySchema,
        timeoutMs: request.timeoutMs + REPLY_MARGIN_MS,
      });
    } catch (err) {
      if (hasCode(err, ErrorCodes.catalogUnavailable)) {
        throw new FetcherUnavailableError('no fetcher answered the upstream test: the fetcher tests upstreams, is it running?', err);
      }
      throw err;
    }
  }
}
