import { z } from 'zod';
import { DigestSchema } from './events.ts';

/**
 * Warm-up: the catalog records a `warm` job and sends `warm.requested`; the
 * fetcher fetches the image (index or manifest by tag, the chosen platform
 * manifests, every config and layer blob) exactly as a pull would store and
 * record it, and reports `warm.progress` snapshots that the catalog applies
 * to the job.
 */

/** `os/architecture` or `os/architecture/variant`, as docker's `--platform`, e.g. `linux/arm64/v8`. */
export const PlatformSchema = z
  .string()
  .max(100)
  .regex(/^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/, 'a platform is os/architecture[/variant], e.g. linux/amd64 or linux/arm64/v8');

/** Which platforms of an index to warm: every one, or those listed (at least one). */
export const WarmPlatformsSchema = z.union([z.literal('all'), z.array(PlatformSchema).min(1).max(64)]);
export type WarmPlatforms = z.infer<typeof WarmPlatformsSchema>;

/** The command: warm `image:tag` into registry `registryId`'s cache, for job `jobId`. */
export const WarmRequestedSchema = z.object({
  eventId: z.string().min(1),
  /** The catalog's job id: every progress event names it. */
  jobId: z.string().min(1).max(64),
  registryId: z.string().min(1).max(64),
  /** Repository name inside the registry, e.g. `library/alpine`. */
  image: z.string().min(1).max(255),
  /** A tag (a digest works too: then no tag entry is recorded). */
  tag: z.string().min(1).max(200),
  platforms: WarmPlatformsSchema,
  /** ISO-8601. */
  requestedAt: z.string(),
});
export type WarmRequested = z.infer<typeof WarmRequestedSchema>;

export const WarmStates = { running: 'running', succeeded: 'succeeded', failed: 'failed' } as const;
export type WarmState = (typeof WarmStates)[keyof typeof WarmStates];

/** What a finished warm did. */
export const WarmResultSchema = z.object({
  /** Digest of the manifest (or index) the tag pointed to. */
  digest: DigestSchema,
  mediaType: z.string(),
  /** Platforms warmed, `os/arch[/variant]`; empty for a single manifest without a platform in its descriptor. */
  platforms: z.array(z.string()),
  /** Manifests recorded (the top one and each chosen platform's). */
  manifests: z.number().int().nonnegative(),
  /** Distinct blobs recorded (configs and layers). */
  blobs: z.number().int().nonnegative(),
  /** Objects downloaded from an upstream by this warm. */
  objectsDownloaded: z.number().int().nonnegative(),
  /** Objects the cache already had (recorded without a download). */
  objectsAlreadyCached: z.number().int().nonnegative(),
  /** Bytes downloaded from an upstream by this warm. */
  bytesDownloaded: z.number().int().nonnegative(),
});
export type WarmResult = z.infer<typeof WarmResultSchema>;

/** Longest error message a `warm.progress` snapshot may carry: a longer one would make the snapshot invalid (dead-lettered), leaving its job running. */
export const MAX_WARM_ERROR_CHARS = 2000;

/**
 * A snapshot of one warm attempt, absolute (never a delta), so a redelivered
 * or reordered event cannot double-count. The catalog never moves a job
 * back from an end state nor its counters backwards.
 */
export const WarmProgressSchema = z.object({
  eventId: z.string().min(1),
  jobId: z.string().min(1).max(64),
  registryId: z.string().min(1).max(64),
  state: z.enum([WarmStates.running, WarmStates.succeeded, WarmStates.failed]),
  objectsDone: z.number().int().nonnegative(),
  /** Absent until every chosen manifest has been read (then the blobs are known). */
  objectsTotal: z.number().int().nonnegative().optional(),
  /** Bytes of the objects done, downloaded or already cached. */
  bytesDone: z.number().int().nonnegative(),
  bytesTotal: z.number().int().nonnegative().optional(),
  /** Every error this attempt met so far, for a person (the catalog appends the new ones). Never secrets. */
  errors: z.array(z.string().max(MAX_WARM_ERROR_CHARS)).max(100),
  /** Set on `succeeded`. */
  result: WarmResultSchema.optional(),
  /** ISO-8601 time of the snapshot. */
  at: z.string(),
});
export type WarmProgress = z.infer<typeof WarmProgressSchema>;

/** JetStream dedup id of a warm command: one warm per job. */
export function warmRequestedMsgId(jobId: string): string {
  return `warm:${jobId}`;
}
