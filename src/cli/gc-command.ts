import type { AdminApiClient } from './admin-api-client.ts';
import { parseCommand } from './cli-args.ts';
import type { CliIo } from './cli-io.ts';
import { runJob } from './job-follow.ts';
import type { JobJson } from './job-json.ts';

export const GC_USAGE = `Usage:
  vreg gc [--dry-run] [--detach] [--json]

Deletes stored objects that no live cache entry of any registry references
(after the server's grace period). --dry-run only reports what would go.
Waits for the job and prints its report unless --detach.`;

export async function gcCommand(args: string[], api: AdminApiClient, io: CliIo): Promise<void> {
  const { values } = parseCommand(
    'gc',
    args,
    { 'dry-run': { type: 'boolean' }, detach: { type: 'boolean' } },
    { min: 0, max: 0, what: 'no arguments' },
  );
  const dryRun = values['dry-run'] === true;
  const { body } = await api.request<JobJson>('POST', '/gc', { dry_run: dryRun });
  await runJob(api, io, body, { label: dryRun ? 'gc (dry run)' : 'gc', json: values.json === true, detach: values.detach === true });
}
