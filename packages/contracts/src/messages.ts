import { z } from 'zod';
import { DigestSchema } from './events.ts';
import { PullPolicySchema } from './pull-policy.ts';

/**
 * Request/reply messages between the gateway (or fetcher) and the catalog.
 * Every reply is an envelope: `{ ok: true, data }` or `{ ok: false, error }`.
 */
export const ReplyErrorSchema = z.object({ code: z.string(), message: z.string() });
export type ReplyError = z.infer<typeof ReplyErrorSchema>;
export type Reply<T> = { ok: true; data: T } | { ok: false; error: ReplyError };

export const RegistryResolveRequestSchema = z.object({ registryId: z.string().min(1).max(64) });
export type RegistryResolveRequest = z.infer<typeof RegistryResolveRequestSchema>;

/** An upstream as the data plane needs it. The password stays encrypted (`SecretBox` from @vreg/secrets). */
export const UpstreamViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  url: z.string(),
  /** Position in the registry's ordered list, 0 first. */
  position: z.number().int().nonnegative(),
  username: z.string().optional(),
  /** AES-256-GCM sealed password; only holders of the secrets key can open it. */
  passwordSealed: z.string().optional(),
  /** Hours a tag manifest is served without revalidation; 0 = never revalidate. */
  cacheValidityHours: z.number().nonnegative(),
  /** Ask for one-component names as `library/<name>` (Docker Hub). Absent = off. */
  libraryPrefix: z.boolean().optional(),
  /** Largest blob fetched from this upstream, bytes; absent = the gateway's and fetcher's VREG_UPSTREAM_MAX_BLOB_BYTES. */
  maxBlobSizeBytes: z.number().int().positive().optional(),
});
export type UpstreamView = z.infer<typeof UpstreamViewSchema>;

/** Who may pull from a registry: `private` needs a token that can read it, `public` allows anonymous pulls. */
export const RegistryVisibilities = { private: 'private', public: 'public' } as const;
export const RegistryVisibilitySchema = z.enum([RegistryVisibilities.private, RegistryVisibilities.public]);
export type RegistryVisibility = z.infer<typeof RegistryVisibilitySchema>;

export const RegistryViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  /** Absent (a catalog older than visibility) means `private`: only the exact value `public` opens a registry. */
  visibility: RegistryVisibilitySchema.optional(),
  upstreams: z.array(UpstreamViewSchema),
  /** The pull policy; absent = every pull allowed, no signature checks. */
  policy: PullPolicySchema.optional(),
});
export type RegistryView = z.infer<typeof RegistryViewSchema>;

export const EntryLookupRequestSchema = z.object({
  registryId: z.string().min(1).max(64),
  /** `<image>/manifests/<ref>` or `<image>/blobs/<digest>`. */
  relativePath: z.string().min(1).max(600),
});
export type EntryLookupRequest = z.infer<typeof EntryLookupRequestSchema>;

/** A cache entry as the data plane sees it. */
export const CacheEntryViewSchema = z.object({
  upstreamId: z.string(),
  relativePath: z.string(),
  digest: DigestSchema,
  contentType: z.string(),
  size: z.number().int().nonnegative(),
  upstreamEtag: z.string().optional(),
  /** ISO-8601. */
  upstreamCheckedAt: z.string(),
});
export type CacheEntryView = z.infer<typeof CacheEntryViewSchema>;

/** The first entry for the path among the registry's upstreams, in upstream order; absent on a miss. */
/** Broadcast on `Subjects.entriesInvalidated`. */
export const EntriesInvalidatedSchema = z.object({ registryIds: z.array(z.string().min(1).max(64)).min(1).max(10_000) });
export type EntriesInvalidated = z.infer<typeof EntriesInvalidatedSchema>;

/** Characters of an upstream error message a broadcast carries. */
export const UPSTREAM_FAILURE_MESSAGE_MAX = 200;

/**
 * Broadcast on `Subjects.upstreamFailed`. `upstream` is the upstream's
 * metrics label (host and path prefix, never user-info or a query);
 * `message` is the error's own secret-free text, cut short. `count` failures
 * since the sender's previous broadcast for this upstream (it throttles).
 */
export const UpstreamFailedSchema = z.object({
  upstream: z.string().min(1).max(255),
  /** The registry pulled through, when the sender knows it. */
  registryId: z.string().min(1).max(64).optional(),
  code: z.string().min(1).max(64),
  message: z.string().max(UPSTREAM_FAILURE_MESSAGE_MAX),
  count: z.number().int().min(1).max(1_000_000),
});
export type UpstreamFailed = z.infer<typeof UpstreamFailedSchema>;

export const EntryLookupReplySchema = z.object({ entry: CacheEntryViewSchema.optional() });
export type EntryLookupReply = z.infer<typeof EntryLookupReplySchema>;
