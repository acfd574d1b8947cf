import { type AdminApiClient, AdminApiError } from './admin-api-client.ts';
import { idArg, intArg, parseCommand } from './cli-args.ts';
import { type CliIo, CommandFailedError, UsageError } from './cli-io.ts';
import { formatBytes } from './format-bytes.ts';
import { formatTable } from './format-table.ts';
import { runJob } from './job-follow.ts';
import type { JobJson } from './job-json.ts';
import { formatRecord, reportDone } from './print-record.ts';

interface CleanupPolicyJson {
  registry_id: string;
  enabled: boolean;
  keep_n_days_after_download: number;
  cadence: number;
  next_run_at: string | null;
  last_run_at: string | null;
  last_run_deleted_entries_count: number;
  last_run_deleted_size: number;
  status: string;
  failure_message: string | null;
}

interface CleanupRunJson {
  id: string;
  job_id: string;
  started_at: string;
  finished_at: string | null;
  keep_n_days_after_download: number;
  deleted_entries_count: number;
  deleted_size: number;
  status: string;
}

const CADENCES = [1, 7, 14, 30, 90] as const;
const DEFAULT_POLICY = { keep_n_days_after_download: 90, cadence: 7 };

export const CLEANUP_USAGE = `Usage:
  vreg cleanup show <registry> [--json]
  vreg cleanup set <registry> [--keep-days <1..365>] [--cadence ${CADENCES.join('|')}] [--json]
  vreg cleanup disable <registry> [--json]
  vreg cleanup run <registry> [--detach] [--json]
  vreg cleanup runs <registry> [--json]
  vreg cleanup delete <registry> [--json]

A registry's cleanup policy purges entries not downloaded for --keep-days
days, every --cadence days. set enables it (defaults: keep 90 days, every 7
days; options not given keep their current value); run starts it now and
waits for the job unless --detach.`;

/** A 404 about the policy itself, not about the registry (or a server without the route). */
function isNoPolicy(err: unknown): boolean {
  return err instanceof AdminApiError && err.status === 404 && err.message !== 'registry not found' && err.message !== 'route not found';
}

/** The registry's policy, or undefined when it has none (a missing registry is still an error). */
async function getPolicy(api: AdminApiClient, registry: string): Promise<CleanupPolicyJson | undefined> {
  try {
    return (await api.request<CleanupPolicyJson>('GET', `/registries/${registry}/cleanup_policy`)).body;
  } catch (err) {
    if (isNoPolicy(err)) return undefined;
    throw err;
  }
}

/** Runs a request that needs the policy, saying `registry 3 has no cleanup policy` when there is none. */
async function needingPolicy<T>(registry: string, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (err) {
    if (isNoPolicy(err))
      throw new CommandFailedError(`registry ${registry} has no cleanup policy (vreg cleanup set ${registry} --keep-days N)`);
    throw err;
  }
}

function describe(p: CleanupPolicyJson): string {
  return formatRecord([
    ['registry', p.registry_id],
    ['enabled', p.enabled ? 'yes' : 'no'],
    ['keep', `${p.keep_n_days_after_download} days after the last download`],
    ['cadence', `every ${p.cadence} day${p.cadence === 1 ? '' : 's'}`],
    ['status', p.status + (p.failure_message === null ? '' : `: ${p.failure_message}`)],
    ['next run', p.enabled ? (p.next_run_at ?? '-') : '-'],
    [
      'last run',
      p.last_run_at === null
        ? 'never'
        : `${p.last_run_at}: ${p.last_run_deleted_entries_count} entries, ${formatBytes(p.last_run_deleted_size)}`,
    ],
  ]);
}

export async function cleanupCommand(args: string[], api: AdminApiClient, io: CliIo): Promise<void> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'show': {
      const { values, positionals } = parseCommand('cleanup show', rest, {}, { min: 1, max: 1, what: 'a registry id' });
      const registry = idArg(positionals[0], 'the registry id');
      const policy = await getPolicy(api, registry);
      if (values.json) return io.out(JSON.stringify(policy ?? null, null, 2));
      io.out(
        policy === undefined
          ? `Registry ${registry} has no cleanup policy (vreg cleanup set ${registry} --keep-days N).`
          : describe(policy),
      );
      return;
    }
    case 'set':
    case 'disable': {
      const { values, positionals } = parseCommand(
        `cleanup ${sub}`,
        rest,
        sub === 'set' ? { 'keep-days': { type: 'string' }, cadence: { type: 'string' } } : {},
        { min: 1, max: 1, what: 'a registry id' },
      );
      const registry = idArg(positionals[0], 'the registry id');
      const keep = values['keep-days'] === undefined ? undefined : intArg(values['keep-days'] as string, 'keep-days', { min: 1, max: 365 });
      const cadence = values.cadence === undefined ? undefined : Number(values.cadence);
      if (cadence !== undefined && !(CADENCES as readonly number[]).includes(cadence))
        throw new UsageError(`--cadence is one of ${CADENCES.join(', ')} (days)`);
      const current = await getPolicy(api, registry);
      if (sub === 'disable' && current === undefined) throw new CommandFailedError(`registry ${registry} has no cleanup policy`);
      // PUT replaces the whole policy: what is not given keeps its current value.
      const { body } = await api.request<CleanupPolicyJson>('PUT', `/registries/${registry}/cleanup_policy`, {
        enabled: sub === 'set',
        keep_n_days_after_download: keep ?? current?.keep_n_days_after_download ?? DEFAULT_POLICY.keep_n_days_after_download,
        cadence: cadence ?? current?.cadence ?? DEFAULT_POLICY.cadence,
      });
      if (values.json) return io.out(JSON.stringify(body, null, 2));
      io.out(describe(body));
      return;
    }
    case 'run': {
      const { values, positionals } = parseCommand(
        'cleanup run',
        rest,
        { detach: { type: 'boolean' } },
        { min: 1, max: 1, what: 'a registry id' },
      );
      const registry = idArg(positionals[0], 'the registry id');
      const { body } = await needingPolicy(registry, () => api.request<JobJson>('POST', `/registries/${registry}/cleanup_policy/run`));
      await runJob(api, io, body, { label: `cleanup registry ${registry}`, json: values.json === true, detach: values.detach === true });
      return;
    }
    case 'delete': {
      const { values, positionals } = parseCommand('cleanup delete', rest, {}, { min: 1, max: 1, what: 'a registry id' });
      const registry = idArg(positionals[0], 'the registry id');
      await needingPolicy(registry, () => api.request('DELETE', `/registries/${registry}/cleanup_policy`));
      reportDone(
        io,
        values.json === true,
        { registry_id: registry, deleted: true },
        `Deleted the cleanup policy of registry ${registry} (its runs stay listed).`,
      );
      return;
    }
    case 'runs': {
      const { values, positionals } = parseCommand('cleanup runs', rest, {}, { min: 1, max: 1, what: 'a registry id' });
      const registry = idArg(positionals[0], 'the registry id');
      const runs = await api.listAll<CleanupRunJson>(`/registries/${registry}/cleanup_runs`);
      if (values.json) return io.out(JSON.stringify(runs, null, 2));
      io.out(
        formatTable(
          ['ID', 'JOB', 'STARTED', 'FINISHED', 'KEEP DAYS', 'DELETED', 'SIZE', 'STATUS'],
          runs.map((r) => [
            r.id,
            r.job_id,
            r.started_at,
            r.finished_at ?? '-',
            String(r.keep_n_days_after_download),
            String(r.deleted_entries_count),
            formatBytes(r.deleted_size),
            r.status,
          ]),
        ),
      );
      return;
    }
    default:
      throw new UsageError(sub === undefined ? CLEANUP_USAGE : `unknown cleanup command ${JSON.stringify(sub)}\n\n${CLEANUP_USAGE}`);
  }
}
