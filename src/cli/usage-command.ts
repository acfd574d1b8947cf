import type { AdminApiClient } from './admin-api-client.ts';
import { idArg, parseCommand } from './cli-args.ts';
import type { CliIo } from './cli-io.ts';
import { formatBytes } from './format-bytes.ts';
import { formatTable } from './format-table.ts';

interface UsageJson {
  registry_id: string;
  stored_bytes: number;
  entries_count: number;
  quota_bytes: number | null;
  upstreams: Array<{ upstream_id: string; name: string; stored_bytes: number; entries_count: number }>;
}

export const USAGE_USAGE = `Usage:
  vreg usage <registry> [--json]

Bytes stored for a registry (live entries; a digest counts once per
upstream), by upstream, against its quota (vreg registries update --max-stored-bytes).`;

export async function usageCommand(args: string[], api: AdminApiClient, io: CliIo): Promise<void> {
  const { values, positionals } = parseCommand('usage', args, {}, { min: 1, max: 1, what: 'a registry id' });
  const registry = idArg(positionals[0], 'the registry id');
  const { body } = await api.request<UsageJson>('GET', `/registries/${registry}/usage`);
  if (values.json) return io.out(JSON.stringify(body, null, 2));
  const quota =
    body.quota_bytes === null
      ? 'no quota'
      : `of ${formatBytes(body.quota_bytes)} quota (${body.quota_bytes === 0 ? 100 : Math.round((body.stored_bytes / body.quota_bytes) * 100)}%)`;
  io.out(`Registry ${body.registry_id}: ${formatBytes(body.stored_bytes)} in ${body.entries_count} entries, ${quota}.`);
  if (body.upstreams.length > 0) {
    io.out('');
    io.out(
      formatTable(
        ['UPSTREAM', 'NAME', 'STORED', 'ENTRIES'],
        body.upstreams.map((u) => [u.upstream_id, u.name, formatBytes(u.stored_bytes), String(u.entries_count)]),
      ),
    );
  }
}
