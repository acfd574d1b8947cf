import { type AdminApiClient, queryOf } from './admin-api-client.ts';
import { idArg, parseCommand } from './cli-args.ts';
import { type CliIo, UsageError } from './cli-io.ts';
import { formatBytes } from './format-bytes.ts';
import { formatTable } from './format-table.ts';
import { runJob } from './job-follow.ts';
import type { JobJson } from './job-json.ts';

interface CacheEntryJson {
  id: string;
  upstream_id: string;
  relative_path: string;
  digest: string;
  size: number;
  downloads_count: number;
  downloaded_at?: string;
  status: string;
  created_at: string;
}

const SORTS = ['size', '-size', 'downloaded_at', '-downloaded_at', 'relative_path'] as const;

export const ENTRIES_USAGE = `Usage:
  vreg entries list <registry> [--search <image substring>] [--sort ${SORTS.join('|')}] [--json]
  vreg entries delete <entry-id> [--detach] [--json]

A leading - sorts descending (--sort -size: biggest first).
A cache entry is one stored manifest or blob of an upstream; delete purges it
(never served again) and waits for the purge job unless --detach.`;

/** `--sort -size` → `--sort=-size`: parseArgs would take `-size` for options. */
function joinDescendingSort(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const next = args[i + 1];
    if (args[i] === '--sort' && next !== undefined && next.startsWith('-') && (SORTS as readonly string[]).includes(next)) {
      out.push(`--sort=${next}`);
      i++;
    } else out.push(args[i] as string);
  }
  return out;
}

export async function entriesCommand(args: string[], api: AdminApiClient, io: CliIo): Promise<void> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'list': {
      const { values, positionals } = parseCommand(
        'entries list',
        joinDescendingSort(rest),
        { search: { type: 'string' }, sort: { type: 'string' } },
        { min: 1, max: 1, what: 'a registry id' },
      );
      const registry = idArg(positionals[0], 'the registry id');
      if (values.sort !== undefined && !(SORTS as readonly string[]).includes(values.sort))
        throw new UsageError(`--sort is one of ${SORTS.join(', ')}`);
      const entries = await api.listAll<CacheEntryJson>(
        `/registries/${registry}/cache_entries${queryOf({ search: values.search, sort: values.sort })}`,
      );
      if (values.json) return io.out(JSON.stringify(entries, null, 2));
      io.out(
        formatTable(
          ['ID', 'UPSTREAM', 'PATH', 'SIZE', 'DOWNLOADS', 'LAST DOWNLOAD', 'STATUS'],
          entries.map((e) => [
            e.id,
            e.upstream_id,
            e.relative_path,
            formatBytes(e.size),
            String(e.downloads_count),
            e.downloaded_at ?? 'never',
            e.status,
          ]),
        ),
      );
      return;
    }
    case 'delete': {
      const { values, positionals } = parseCommand(
        'entries delete',
        rest,
        { detach: { type: 'boolean' } },
        { min: 1, max: 1, what: 'a cache entry id' },
      );
      const id = positionals[0] as string;
      // Entry ids are opaque (the upstream id and the path, URL-safe): checked for shape only.
      if (!/^[A-Za-z0-9_-]{1,2048}$/.test(id))
        throw new UsageError(`the cache entry id looks like 3-bGlicmFyeS9hbHBpbmU (see vreg entries list), not ${JSON.stringify(id)}`);
      const { body } = await api.request<JobJson>('DELETE', `/cache_entries/${encodeURIComponent(id)}`);
      await runJob(api, io, body, { label: 'purge entry', json: values.json === true, detach: values.detach === true });
      return;
    }
    default:
      throw new UsageError(sub === undefined ? ENTRIES_USAGE : `unknown entries command ${JSON.stringify(sub)}\n\n${ENTRIES_USAGE}`);
  }
}
