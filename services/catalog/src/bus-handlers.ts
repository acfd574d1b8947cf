import type { BlobStore } from '@vreg/blob-store';
import type { EventBus, Subscription } from '@vreg/bus';
import { Streams } from '@vreg/contracts';
import type { Logger } from '@vreg/logging';
import type { SecretBox } from '@vreg/secrets';
import { BusRefillRequester } from './adapters/bus/bus-refill-requester.ts';
import { EntryServedConsumer } from './consumers/entry-served-consumer.ts';
import { ObjectStoredConsumer } from './consumers/object-stored-consumer.ts';
import type { OverviewStatsRecorder } from './consumers/overview-stats-recorder.ts';
import { PolicyDeniedConsumer } from './consumers/policy-denied-consumer.ts';
import { WarmProgressConsumer } from './consumers/warm-progress-consumer.ts';
import type { AccessTokens } from './domain/access-tokens.ts';
import type { PullPolicies } from './domain/pull-policies.ts';
import type { CatalogStore } from './ports/catalog-store.ts';
import { AccessTokenVerifyResponder } from './responders/access-token-verify-responder.ts';
import { EntryLookupResponder } from './responders/entry-lookup-responder.ts';
import { RegistryResolveResponder } from './responders/registry-resolve-responder.ts';

export interface BusHandlersDeps {
  bus: EventBus;
  /** The plain store: lookups and download counts. */
  store: CatalogStore;
  /** The lifecycle's hooked store: stored objects go through it (quota checks). */
  hookedStore: CatalogStore;
  blobs: BlobStore;
  secretBox: SecretBox;
  accessTokens: AccessTokens;
  statsRecorder: OverviewStatsRecorder;
  /** Records the pull policies' refusals (policy.denied). */
  policies: PullPolicies;
  logger: Logger;
  /** object.stored events handled at once (VREG_CATALOG_OBJECTS_CONCURRENCY). */
  objectsConcurrency: number;
}

/** The catalog's side of the bus, started and stopped as one. */
export interface BusHandlers {
  /** The responders and consumers, by name, for the start-up log. */
  readonly names: readonly string[];
  /** Declares the streams it consumes, then starts every part; a failure stops those already started. */
  start(): Promise<void>;
  /** Stops them all, waiting for messages in progress. */
  stop(): Promise<void>;
}

/**
 * What the catalog answers and consumes on the bus: 3 responders
 * (`registry.resolve`, `entry.lookup`, `access-token.verify`) and 5 consumers
 * (`object.stored`, `warm.progress`, `entry.served`, `upstream.failed`, `policy.denied`).
 */
export function buildBusHandlers(deps: BusHandlersDeps): BusHandlers {
  const { bus, store, logger, statsRecorder } = deps;
  const parts: ReadonlyArray<{ name: string; start(bus: EventBus): Promise<Subscription> }> = [
    { name: 'registry-resolve', start: (b) => new RegistryResolveResponder({ store }).start(b) },
    { name: 'entry-lookup', start: (b) => new EntryLookupResponder({ store }).start(b) },
    {
      name: 'access-token-verify',
      start: (b) => new AccessTokenVerifyResponder({ tokens: deps.accessTokens, opener: deps.secretBox }).start(b),
    },
    {
      name: 'object-stored',
      start: (b) =>
        statsRecorder.startObjectStored(
          b,
          new ObjectStoredConsumer({
            store: deps.hookedStore,
            blobs: deps.blobs,
            refills: new BusRefillRequester(bus),
            logger,
            concurrency: deps.objectsConcurrency,
          }),
        ),
    },
    { name: 'warm-progress', start: (b) => new WarmProgressConsumer({ jobs: store.jobs, logger }).start(b) },
    { name: 'entry-served', start: (b) => statsRecorder.startEntryServed(b, new EntryServedConsumer({ store, logger })) },
    { name: 'upstream-failed', start: (b) => statsRecorder.listenUpstreamFailed(b) },
    { name: 'policy-denied', start: (b) => new PolicyDeniedConsumer({ policies: deps.policies, logger }).start(b) },
  ];
  let running: Subscription[] = [];

  async function stopAll(subscriptions: readonly Subscription[]): Promise<void> {
    const results = await Promise.allSettled(subscriptions.map((s) => s.stop()));
    for (const r of results) if (r.status === 'rejected') logger.warn({ err: r.reason }, 'catalog subscription did not stop cleanly');
  }

  return {
    names: parts.map((p) => p.name),
    async start() {
      // VREG_FETCH too: the object.stored consumer asks for refills when GC raced a fill.
      await bus.ensureStreams([Streams.objects, Streams.served, Streams.fetch, Streams.warm, Streams.warmProgress, Streams.policy]);
      const started: Subscription[] = [];
      try {
        for (const part of parts) started.push(await part.start(bus));
      } catch (err) {
        // Half-started is worse than not started: undo, then report.
        await stopAll(started);
        throw err;
      }
      running = started;
    },
    async stop() {
      const subscriptions = running;
      running = [];
      await stopAll(subscriptions);
    },
  };
}
