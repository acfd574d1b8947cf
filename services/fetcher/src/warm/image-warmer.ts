import {
  AppError,
  ErrorCodes,
  ManifestUnknownError,
  PolicyDeniedError,
  type RegistryView,
  relativePathOf,
  UnsupportedError,
  type WarmPlatforms,
  type WarmResult,
} from '@vreg/contracts';
import { readBounded } from '@vreg/fill';
import { type Descriptor, type ImageManifest, parseImageManifest } from '../domain/image-manifest.ts';
import { formatPlatform, platformMatches, selectPlatformManifests } from '../domain/platform-selection.ts';
import { type BlobWarmerDeps, warmBlob } from './blob-warmer.ts';
import { warmManifest } from './manifest-warmer.ts';
import type { WarmPolicy } from './warm-policy.ts';
import type { WarmProgressReporter } from './warm-progress.ts';
import { WarmSignatureSource } from './warm-signature-source.ts';

export interface ImageWarmerDeps extends BlobWarmerDeps {
  /** Blobs downloaded at once by one warm. */
  blobConcurrency: number;
  /** How long to wait for the catalog to record every entry before the warm counts as done, ms. */
  recordWaitMs: number;
  /** The registries' pull policies, applied as to pulls; absent: nothing is refused. */
  policy?: WarmPolicy;
}

export interface WarmTarget {
  image: string;
  tag: string;
  platforms: WarmPlatforms;
  /** The job, named in the records of a refusal. */
  jobId?: string;
}

/**
 * A warm whose objects did not all end up stored. `retryable` when at least
 * one failure may pass (upstream down, store unavailable): the command is
 * redelivered and the stored objects are then only recorded.
 */
export class WarmIncompleteError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'WarmIncompleteError';
  }
}

/** Upstream answers no retry will change. */
const PERMANENT = new Set<string>([
  ErrorCodes.manifestUnknown,
  ErrorCodes.blobUnknown,
  ErrorCodes.nameUnknown,
  ErrorCodes.nameInvalid,
  ErrorCodes.digestInvalid,
  ErrorCodes.manifestInvalid,
  ErrorCodes.unsupported,
  ErrorCodes.policyDenied,
]);

export function isPermanentWarmError(err: unknown): boolean {
  if (err instanceof WarmIncompleteError) return !err.retryable;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && PERMANENT.has(code);
}

/** `message (CODE)`, for a person reading the job. */
export function describeError(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  return typeof code === 'string' ? `${message} (${code})` : message;
}

/**
 * Warms `image:tag` into the registry's cache as a pull of every chosen
 * platform would: the tag's manifest (or index), each chosen platform
 * manifest, their config and layer blobs, each stored and announced with
 * `object.stored` under the same relative paths a pull records. Resolves
 * once the catalog answers every entry, so the next pull is a pure hit.
 */
export async function warmImage(
  deps: ImageWarmerDeps,
  registry: RegistryView,
  target: WarmTarget,
  progress: WarmProgressReporter,
  signal: AbortSignal,
): Promise<WarmResult> {
  const { image, tag } = target;
  if (registry.upstreams.length === 0)
    throw new ManifestUnknownError('the registry has no upstream to warm from', { name: image, reference: tag });
  const subject = { jobId: target.jobId ?? 'unknown', registry, image, tag };
  await deps.policy?.admit(subject);
  const top = await warmManifest(deps, registry, image, tag, signal);
  await deps.policy?.vouch(subject, top, new WarmSignatureSource(deps, registry, signal));
  progress.objectDone(top.bytes.length, top.outcome);
  const paths = [...top.paths];
  const parsed = parseImageManifest(top.bytes, top.contentType);

  let images: Array<{ manifest: Extract<ImageManifest, { kind: 'image' }>; descriptor?: Descriptor }>;
  let platforms: string[] = [];
  if (parsed.kind === 'index') {
    let chosen = selectPlatformManifests(parsed.manifests, target.platforms);
    if (deps.policy !== undefined) {
      const offered = chosen.flatMap((d) => (d.platform ? [formatPlatform(d.platform)] : []));
      const allowed = await deps.policy.platformsAllowed(subject, offered, target.platforms !== 'all');
      chosen = chosen.filter((d) => d.platform === undefined || allowed.has(formatPlatform(d.platform)));
      if (chosen.length === 0 && offered.length > 0)
        throw new PolicyDeniedError(`every platform of ${image}:${tag} is refused by the registry's pull policy (${offered.join(', ')})`);
    }
    platforms = [...new Set(chosen.flatMap((d) => (d.platform ? [formatPlatform(d.platform)] : [])))];
    images = [];
    for (const descriptor of chosen) {
      const child = await warmManifest(deps, registry, image, descriptor.digest, signal);
      progress.objectDone(child.bytes.length, child.outcome);
      paths.push(...child.paths);
      const manifest = parseImageManifest(child.bytes, child.contentType);
      if (manifest.kind !== 'image')
        throw new UnsupportedError(`the index entry ${descriptor.digest} is itself an index; nested indexes cannot be warmed`);
      images.push({ manifest, descriptor });
    }
  } else {
    images = [{ manifest: parsed }];
  }

  const blobs = new Map<string, number>();
  for (const { manifest } of images) for (const d of [manifest.config, ...manifest.layers]) blobs.set(d.digest, d.size);
  const manifestBytes = top.bytes.length + images.reduce((n, i) => n + (i.descriptor?.size ?? 0), 0);
  progress.setTotals(
    1 + (parsed.kind === 'index' ? images.length : 0) + blobs.size,
    manifestBytes + [...blobs.values()].reduce((a, b) => a + b, 0),
  );

  if (parsed.kind === 'image' && target.platforms !== 'all') {
    // No index to choose from: the config says which platform this image is.
    const config = parsed.config;
    progress.objectDone(config.size, await warmBlob(deps, registry, image, config.digest, signal));
    blobs.delete(config.digest);
    paths.push(relativePathOf({ kind: 'blob', image, reference: config.digest }));
    const platform = await storedConfigPlatform(deps, config.digest);
    if (!target.platforms.some((w) => platformMatches(w, platform))) {
      throw new UnsupportedError(
        `platform ${target.platforms.join(', ')} not offered: ${image}:${tag} is a single-platform image for ${platform ? formatPlatform(platform) : 'an unknown platform'}`,
      );
    }
    if (platform) platforms = [formatPlatform(platform)];
  }

  const failures = await warmBlobs(deps, registry, image, blobs, progress, signal);
  for (const digest of blobs.keys()) paths.push(relativePathOf({ kind: 'blob', image, reference: digest }));
  if (failures.length > 0) {
    const retryable = failures.some((f) => !isPermanentWarmError(f));
    throw new WarmIncompleteError(
      `${failures.length} blob${failures.length === 1 ? '' : 's'} of ${image}:${tag} could not be warmed`,
      retryable,
    );
  }
  await awaitRecorded(deps, registry, paths, signal);
  return {
    digest: top.digest,
    mediaType: top.contentType,
    platforms,
    manifests: 1 + (parsed.kind === 'index' ? images.length : 0),
    blobs: blobs.size + (parsed.kind === 'image' && target.platforms !== 'all' ? 1 : 0),
    objectsDownloaded: progress.objectsDownloaded,
    objectsAlreadyCached: progress.objectsAlreadyCached,
    bytesDownloaded: progress.bytesDownloaded,
  };
}

/** Every blob, `blobConcurrency` at a time; a failed blob does not stop the others. Resolves the failures. */
async function warmBlobs(
  deps: ImageWarmerDeps,
  registry: RegistryView,
  image: string,
  blobs: ReadonlyMap<string, number>,
  progress: WarmProgressReporter,
  signal: AbortSignal,
): Promise<unknown[]> {
  const queue = [...blobs.entries()];
  const failures: unknown[] = [];
  const worker = async (): Promise<void> => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      const [digest, size] = next;
      // Bytes done moves while a big layer streams, not only when it is stored.
      const streaming = progress.streamingBlob();
      try {
        const outcome = await warmBlob(deps, registry, image, digest, signal, streaming.onBytes);
        streaming.settle();
        progress.objectDone(size, outcome);
      } catch (err) {
        streaming.settle();
        // Our own deadline ends the whole warm.
        if (signal.aborted) throw err;
        failures.push(err);
        progress.error(`blob ${digest}: ${describeError(err)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(deps.blobConcurrency, queue.length)) }, worker));
  return failures;
}

/** The image config's platform (os, architecture, variant), read from the store. */
async function storedConfigPlatform(
  deps: ImageWarmerDeps,
  digest: string,
): Promise<{ os: string; architecture: string; variant?: string } | undefined> {
  const read = await deps.fill.store.get(digest);
  if (!read) return undefined;
  try {
    const config = JSON.parse((await readBounded(read.body, deps.fill.manifestMaxBytes)).toString('utf8')) as Record<string, unknown>;
    if (typeof config.os !== 'string' || typeof config.architecture !== 'string') return undefined;
    return {
      os: config.os,
      architecture: config.architecture,
      ...(typeof config.variant === 'string' && config.variant ? { variant: config.variant } : {}),
    };
  } catch (err) {
    if (err instanceof AppError) throw err;
    return undefined;
  }
}

/**
 * Waits until the catalog answers every path: `object.stored` is consumed
 * asynchronously, and a pull that came before the entry would ask the
 * upstream again (a HEAD) instead of being a pure hit.
 */
async function awaitRecorded(deps: ImageWarmerDeps, registry: RegistryView, paths: readonly string[], signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + deps.recordWaitMs;
  let pending = [...new Set(paths)];
  for (;;) {
    const answers = await Promise.all(pending.map(async (p) => ((await deps.catalog.lookupEntry(registry.id, p)) ? undefined : p)));
    pending = answers.filter((p): p is string => p !== undefined);
    if (pending.length === 0) return;
    if (Date.now() > deadline)
      throw new WarmIncompleteError(`the catalog has not recorded ${pending.length} of the warmed objects yet (e.g. ${pending[0]})`, true);
    signal.throwIfAborted();
    await new Promise((r) => setTimeout(r, Math.min(200, deps.waitPollMs * 2)));
  }
}
