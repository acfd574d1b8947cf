import { z } from 'zod';

/** `sha256:<64 hex>` or `sha512:<128 hex>`, lower case. */
export const DigestSchema = z.string().regex(/^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/, 'not a sha256/sha512 digest');

/** What a client asked for: a manifest by tag or digest, or a blob by digest. */
export const ObjectRefSchema = z.object({
  /** `manifest` or `blob`. */
  kind: z.enum(['manifest', 'blob']),
  /** Repository name inside the registry, e.g. `library/alpine` or `team/app/api`. */
  image: z.string().min(1).max(255),
  /** A tag (manifests only) or a digest. */
  reference: z.string().min(1).max(200),
});
export type ObjectRef = z.infer<typeof ObjectRefSchema>;

/**
 * Published by the gateway on every miss, before it starts filling. The
 * fetcher makes sure the object ends up stored even if the gateway's fill is
 * abandoned. `Nats-Msg-Id` = `fetchRequestedMsgId(...)` deduplicates repeats.
 */
export const FetchRequestedSchema = z.object({
  eventId: z.string().min(1),
  /** Virtual registry id. */
  registryId: z.string().min(1),
  object: ObjectRefSchema,
  /** ISO-8601 time the miss happened. */
  requestedAt: z.string(),
});
export type FetchRequested = z.infer<typeof FetchRequestedSchema>;

/**
 * Published once an object is durably stored under `digest` and verified.
 * One event per cache entry: a manifest pulled by tag yields one for the tag
 * path and one for the digest path.
 */
export const ObjectStoredSchema = z.object({
  eventId: z.string().min(1),
  registryId: z.string().min(1),
  /** The upstream the bytes came from: the entry is scoped to it. */
  upstreamId: z.string().min(1),
  /** `<image>/manifests/<tag|digest>` or `<image>/blobs/<digest>`. */
  relativePath: z.string().min(1).max(600),
  digest: DigestSchema,
  /** Content type exactly as the upstream sent it. */
  contentType: z.string().min(1).max(255),
  /** Bytes. */
  size: z.number().int().nonnegative(),
  upstreamEtag: z.string().max(512).optional(),
  /** ISO-8601 time the upstream was last asked about this path. */
  upstreamCheckedAt: z.string(),
  /** ISO-8601 time the object was committed to the blob store. */
  storedAt: z.string(),
});
export type ObjectStored = z.infer<typeof ObjectStoredSchema>;

/** Batched cache hits for one entry. Consumers add `count` and move `downloadedAt` forward, never back. */
export const EntryServedSchema = z.object({
  eventId: z.string().min(1),
  upstreamId: z.string().min(1),
  relativePath: z.string().min(1).max(600),
  /** Hits since the previous batch. */
  count: z.number().int().positive(),
  /** ISO-8601 time of the latest hit in the batch. */
  downloadedAt: z.string(),
  /** Bytes of the entry, as the gateway served it: the console's "served from cache" adds count × size without reading the entry. Absent from older gateways. */
  size: z.number().int().nonnegative().optional(),
});
export type EntryServed = z.infer<typeof EntryServedSchema>;

/** The relative path of an object inside an upstream: the natural key of a cache entry with the upstream id. */
export function relativePathOf(ref: ObjectRef): string {
  return `${ref.image}/${ref.kind === 'manifest' ? 'manifests' : 'blobs'}/${ref.reference}`;
}

/** JetStream dedup id for a fetch request: one fill per registry object inside the dedup window. */
export function fetchRequestedMsgId(registryId: string, ref: ObjectRef): string {
  return `fetch:${registryId}:${relativePathOf(ref)}`;
}

/** JetStream dedup id for a stored object: redelivery of the same fact is dropped. */
export function objectStoredMsgId(e: Pick<ObjectStored, 'upstreamId' | 'relativePath' | 'digest' | 'upstreamCheckedAt'>): string {
  return `stored:${e.upstreamId}:${e.relativePath}:${e.digest}:${e.upstreamCheckedAt}`;
}
