import type { EventBus } from '@vreg/bus';
import { FetcherUnavailableError, Subjects, type WarmRequested, warmRequestedMsgId } from '@vreg/contracts';
import type { WarmDispatcher } from '../../ports/warm-dispatcher.ts';

/** Publishes `warm.requested` on JetStream, deduplicated by job id; fetcher replicas compete for it. */
export class BusWarmDispatcher implements WarmDispatcher {
  readonly #bus: EventBus;

  constructor(bus: EventBus) {
    this.#bus = bus;
  }

  async dispatch(command: WarmRequested): Promise<void> {
    try {
      await this.#bus.publish(Subjects.warmRequested, command, { msgId: warmRequestedMsgId(command.jobId) });
    } catch (err) {
      throw new FetcherUnavailableError('the warm command could not be queued for the fetchers: the message bus did not take it', err);
    }
  }
}
