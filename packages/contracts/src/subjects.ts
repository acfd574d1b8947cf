/**
 * NATS subjects and JetStream streams. Every service names subjects through
 * these constants only, so a rename is one edit.
 */
export const Subjects = {
  /** A client missed the cache: make sure this object ends up stored. JetStream, deduplicated by `Nats-Msg-Id`. */
  fetchRequested: 'vreg.fetch.requested',
  /** An object is durably stored and verified: the catalog upserts its cache entry. JetStream. */
  objectStored: 'vreg.object.stored',
  /** Cache hits, batched by the gateway: download counts and last download time. JetStream. */
  entryServed: 'vreg.entry.served',
  /** Dead letters: `vreg.dead.<original subject>`. JetStream. */
  deadLetterPrefix: 'vreg.dead',
  /** Request/reply: a registry and its ordered upstreams. Core NATS. */
  registryResolve: 'vreg.catalog.registry.resolve',
  /** Request/reply: the cache entry for a relative path in a registry. Core NATS. */
  entryLookup: 'vreg.catalog.entry.lookup',
  /** Request/reply: is this presented access token valid, and what may it do. The token travels sealed. Core NATS. */
  accessTokenVerify: 'vreg.catalog.access_token.verify',
  /** Request/reply: the fetcher probes an upstream's `/v2/` for the admin's test connection. The password travels sealed. Core NATS. */
  upstreamTest: 'vreg.fetcher.upstream.test',
  /**
   * Broadcast: cache entries of these registries left the live set (purge,
   * cleanup, quota, upstream removed); every gateway drops its cached lookups
   * for them. Core NATS, best effort: a gateway that misses one still drops
   * tag lookups within its tag window.
   */
  entriesInvalidated: 'vreg.catalog.entries.invalidated',
  /**
   * Broadcast: a gateway or fetcher saw upstream requests fail; the catalog
   * counts them for the console's overview. Core NATS, best effort, at most
   * one per upstream per second from each process.
   */
  upstreamFailed: 'vreg.upstream.failed',
  /** Command: warm an image into a registry's cache (a `warm` job). JetStream, deduplicated by `warmRequestedMsgId`. */
  warmRequested: 'vreg.warm.requested',
  /** A warm job's progress snapshot or end state, from the fetcher to the catalog. JetStream. */
  warmProgress: 'vreg.warm.progress',
  /** A pull the policy refused, or would have in audit mode; the catalog records it. JetStream. */
  policyDenied: 'vreg.policy.denied',
} as const;
export type Subject = (typeof Subjects)[keyof typeof Subjects];

/**
 * How long a stream keeps a message.
 * - `workqueue`: until the stream's one consumer group acks (or terms) it.
 *   For commands, which one group carries out: nothing done stays on disk.
 * - `limits`: within the stream's bounds (age, bytes, messages), whatever
 *   the acks: for events, which more than one reader may want, and for dead
 *   letters, kept for inspection and replay.
 * Every stream is bounded by age, bytes and messages as well (the oldest go first).
 */
export type StreamRetention = 'workqueue' | 'limits';

/** A JetStream stream: its name, the subjects it captures and its retention. */
export interface StreamSpec {
  readonly name: string;
  readonly subjects: readonly string[];
  /** Default `limits`. */
  readonly retention?: StreamRetention;
}

/** JetStream streams, the subjects each one captures and what they keep. */
export const Streams = {
  /** Command to the fetchers (consumer `fetcher`): gone once done. */
  fetch: { name: 'VREG_FETCH', subjects: [Subjects.fetchRequested], retention: 'workqueue' },
  /** Event: an object is stored; the catalog records it. */
  objects: { name: 'VREG_OBJECTS', subjects: [Subjects.objectStored], retention: 'limits' },
  /** Event: download counts, batched. */
  served: { name: 'VREG_SERVED', subjects: [Subjects.entryServed], retention: 'limits' },
  /** Command to the fetchers (consumer `fetcher-warm`): gone once done. */
  warm: { name: 'VREG_WARM', subjects: [Subjects.warmRequested], retention: 'workqueue' },
  /** Event: a warm job's progress, for the catalog. */
  warmProgress: { name: 'VREG_WARM_PROGRESS', subjects: [Subjects.warmProgress], retention: 'limits' },
  /** Event: a refusal by a pull policy, for the catalog's records (bounded there too). */
  policy: { name: 'VREG_POLICY', subjects: [Subjects.policyDenied], retention: 'limits' },
  /** Dead letters, kept longer (30 days) for inspection and replay. */
  dead: { name: 'VREG_DEAD', subjects: [`${Subjects.deadLetterPrefix}.>`], retention: 'limits' },
} as const satisfies Record<string, StreamSpec>;
export type StreamName = (typeof Streams)[keyof typeof Streams]['name'];

/** Durable consumer names: one per job, shared by all replicas of that job (competing consumers). */
export const Consumers = {
  fetcher: 'fetcher',
  catalogObjects: 'catalog-objects',
  catalogServed: 'catalog-served',
  fetcherWarm: 'fetcher-warm',
  catalogWarmProgress: 'catalog-warm-progress',
  catalogPolicy: 'catalog-policy',
} as const;
export type ConsumerName = (typeof Consumers)[keyof typeof Consumers];
