import { type AdminApiClient, queryOf } from './admin-api-client.ts';
import { idArg, parseCommand } from './cli-args.ts';
import { type CliIo, UsageError } from './cli-io.ts';
import { runJob } from './job-follow.ts';
import type { JobJson } from './job-json.ts';

export const PURGE_USAGE = `Usage:
  vreg purge registry <id> [--image <name> [--tag <tag>]] [--detach] [--json]
  vreg purge upstream <id> [--detach] [--json]

Purged entries are never served again; the next pull fetches from the
upstream. --image purges one image (its tags, manifests and the blobs no other
manifest uses), --tag one tag of it. Waits for the purge job unless --detach.`;

export async function purgeCommand(args: string[], api: AdminApiClient, io: CliIo): Promise<void> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'registry': {
      const { values, positionals } = parseCommand(
        'purge registry',
        rest,
        { image: { type: 'string' }, tag: { type: 'string' }, detach: { type: 'boolean' } },
        { min: 1, max: 1, what: 'a registry id' },
      );
      const id = idArg(positionals[0], 'the registry id');
      if (values.tag !== undefined && values.image === undefined) throw new UsageError('--tag needs --image');
      const { body } = await api.request<JobJson>('DELETE', `/registries/${id}/cache${queryOf({ image: values.image, tag: values.tag })}`);
      const what =
        values.image === undefined
          ? `registry ${id}`
          : `${values.image}${values.tag === undefined ? '' : `:${values.tag}`} in registry ${id}`;
      await runJob(api, io, body, { label: `purge ${what}`, json: values.json === true, detach: values.detach === true });
      return;
    }
    case 'upstream': {
      const { values, positionals } = parseCommand(
        'purge upstream',
        rest,
        { detach: { type: 'boolean' } },
        { min: 1, max: 1, what: 'an upstream id' },
      );
      const id = idArg(positionals[0], 'the upstream id');
      const { body } = await api.request<JobJson>('DELETE', `/upstreams/${id}/cache`);
      await runJob(api, io, body, { label: `purge upstream ${id}`, json: values.json === true, detach: values.detach === true });
      return;
    }
    default:
      throw new UsageError(sub === undefined ? PURGE_USAGE : `unknown purge target ${JSON.stringify(sub)}\n\n${PURGE_USAGE}`);
  }
}
