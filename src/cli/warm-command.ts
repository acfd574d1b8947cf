import type { AdminApiClient } from './admin-api-client.ts';
import { idArg, parseCommand } from './cli-args.ts';
import { type CliIo, UsageError } from './cli-io.ts';
import { formatBytes } from './format-bytes.ts';
import { runJob } from './job-follow.ts';
import type { JobJson } from './job-json.ts';

export const WARM_USAGE = `Usage:
  vreg warm <registry> <image>[:<tag>|@<digest>] [--platform <os/arch[/variant]>]... [--detach] [--json]

Fetches an image into the cache before anyone pulls it: the index, the chosen
platforms' manifests (every platform unless --platform) and all their blobs.
Follows the job with a progress bar (one line per change when stderr is not a
terminal) unless --detach; exits 1 if the job fails. The tag defaults to latest.`;

const PLATFORM_RE = /^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/;

/**
 * `library/alpine:3.20` → image and tag; `library/alpine@sha256:…` → the
 * digest in place of the tag (the API takes either); the colon of a
 * `host:port/` prefix is not a tag.
 */
export function splitImageRef(ref: string): { image: string; tag: string } {
  const at = ref.indexOf('@');
  if (at !== -1) {
    if (at === 0 || at === ref.length - 1) throw new UsageError(`warm needs <image>@<digest>, not ${JSON.stringify(ref)}`);
    return { image: ref.slice(0, at), tag: ref.slice(at + 1) };
  }
  const colon = ref.lastIndexOf(':');
  const image = colon > ref.lastIndexOf('/') ? ref.slice(0, colon) : ref;
  const tag = colon > ref.lastIndexOf('/') ? ref.slice(colon + 1) : 'latest';
  if (image === '' || tag === '') throw new UsageError(`warm needs <image>:<tag>, not ${JSON.stringify(ref)}`);
  return { image, tag };
}

export async function warmCommand(args: string[], api: AdminApiClient, io: CliIo): Promise<void> {
  const { values, positionals } = parseCommand(
    'warm',
    args,
    { platform: { type: 'string', multiple: true }, detach: { type: 'boolean' } },
    { min: 2, max: 2, what: 'a registry id and <image>:<tag>' },
  );
  const registry = idArg(positionals[0], 'the registry id');
  const { image, tag } = splitImageRef(positionals[1] as string);
  const platforms = values.platform ?? [];
  for (const p of platforms)
    if (!PLATFORM_RE.test(p)) throw new UsageError(`--platform looks like linux/amd64 or linux/arm64/v8, not ${JSON.stringify(p)}`);
  const { body } = await api.request<JobJson>('POST', `/registries/${registry}/warm`, {
    image,
    tag,
    platforms: platforms.length === 0 ? 'all' : platforms,
  });
  await runJob(api, io, body, {
    label: `warm ${image}:${tag}`,
    json: values.json === true,
    detach: values.detach === true,
    describe: (job) =>
      `Warmed ${image}:${tag} in registry ${registry}: ${job.progress.objects_done} objects, ${formatBytes(job.progress.bytes_done)}.`,
  });
}
