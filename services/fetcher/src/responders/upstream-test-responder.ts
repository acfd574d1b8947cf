import type { EventBus, Subscription } from '@vreg/bus';
import {
  Subjects,
  type UpstreamTestReply,
  type UpstreamTestRequest,
  UpstreamTestRequestSchema,
  UpstreamTestResults,
} from '@vreg/contracts';
import type { Logger } from '@vreg/logging';
import type { UpstreamPing, UpstreamRegistry, UpstreamTarget } from '@vreg/upstream-client';

/** Opens the sealed password (`SecretBox` from @vreg/secrets). */
export interface PasswordOpener {
  /** @throws when the value was sealed with a key this process does not hold, or was altered. */
  open(sealed: string): string;
}

/**
 * Answers `vreg.fetcher.upstream.test` for the catalog's test-connection
 * endpoints: opens the sealed password, pings the upstream's `/v2/` within
 * the request's deadline and replies the result. Fetcher replicas share
 * the subject as a queue group. The password lives only in this handler's
 * frame and the upstream request; replies and logs carry the result alone.
 */
export class UpstreamTestResponder {
  readonly #upstreams: Pick<UpstreamRegistry, 'ping'>;
  readonly #opener: PasswordOpener;
  readonly #logger: Logger;

  constructor(deps: { upstreams: Pick<UpstreamRegistry, 'ping'>; opener: PasswordOpener; logger: Logger }) {
    this.#upstreams = deps.upstreams;
    this.#opener = deps.opener;
    this.#logger = deps.logger.child({ component: 'upstream-test' });
  }

  start(bus: EventBus): Promise<Subscription> {
    return bus.serve(Subjects.upstreamTest, UpstreamTestRequestSchema, this.handle);
  }

  /** Never throws for what the upstream does: every outcome is a reply. */
  readonly handle = async (request: UpstreamTestRequest): Promise<UpstreamTestReply> => {
    const upstream = originOf(request.url);
    const target: UpstreamTarget = { url: request.url, ...(request.username === undefined ? {} : { username: request.username }) };
    if (request.passwordSealed !== undefined) {
      try {
        target.password = this.#opener.open(request.passwordSealed);
      } catch {
        this.#logger.warn({ upstream }, 'upstream test: the sealed password does not open');
        return {
          success: false,
          result: UpstreamTestResults.error,
          latencyMs: 0,
          message:
            "the stored password cannot be opened with this fetcher's keys: is its sealing key missing from VREG_SECRET_KEY or VREG_SECRET_KEY_PREVIOUS?",
        };
      }
    }
    let ping: UpstreamPing;
    try {
      ping = await this.#upstreams.ping(target, { signal: AbortSignal.timeout(request.timeoutMs) });
    } catch (err) {
      if (err instanceof TypeError)
        return { success: false, result: UpstreamTestResults.error, latencyMs: 0, message: 'the upstream url is not a valid http(s) URL' };
      throw err;
    }
    this.#logger.info({ upstream, result: ping.result, status: ping.status, latencyMs: ping.latencyMs }, 'upstream tested');
    return {
      success: ping.result === UpstreamTestResults.ok,
      result: ping.result,
      ...(ping.status === undefined ? {} : { httpStatus: ping.status }),
      latencyMs: ping.latencyMs,
      message: ping.message,
    };
  };
}

/** The upstream as logs name it: origin only. */
function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'invalid';
  }
}
