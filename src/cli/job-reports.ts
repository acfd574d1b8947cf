import { formatBytes } from './format-bytes.ts';
import type { JobJson } from './job-json.ts';
import { formatJobResult } from './job-progress.ts';

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
const entries = (n: number): string => (n === 1 ? '1 entry' : `${n} entries`);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

/** The gc job's report: counts, bytes and the first digests. */
function describeGc(r: Record<string, unknown>): string {
  const dryRun = r.dry_run === true;
  const count = num(dryRun ? r.objects_would_delete : r.objects_deleted) ?? 0;
  const bytes = num(dryRun ? r.bytes_would_free : r.bytes_freed) ?? 0;
  const digests = Array.isArray(r.digests) ? (r.digests as unknown[]).map(String) : [];
  const head = dryRun ? `Dry run: ${plural(count, 'object')} would be deleted, ${formatBytes(bytes)} freed.` : `Deleted ${plural(count, 'object')}, ${formatBytes(bytes)} freed.`;
  return [head, ...digests.map((d) => `  ${d}`), ...(digests.length < count ? [`  … and ${count - digests.length} more`] : [])].join('\n');
}

/**
 * A finished job's result in a sentence, by kind (the lifecycle contract's
 * result fields); `key: value` lines for a result this CLI does not know.
 */
export function describeJobResult(job: JobJson): string {
  const r = job.result;
  if (r === null) return '';
  if (job.kind === 'gc') return describeGc(r);
  if (job.kind === 'purge' && num(r.entries_marked) !== undefined) {
    return `Purged ${entries(num(r.entries_marked) ?? 0)} (${formatBytes(num(r.bytes_marked) ?? 0)}); they are never served again and GC frees their objects.`;
  }
  if (job.kind === 'cleanup' && num(r.deleted_entries_count) !== undefined) {
    const cutoff = typeof r.cutoff === 'string' ? `, not downloaded since ${r.cutoff}` : '';
    return `Cleanup deleted ${entries(num(r.deleted_entries_count) ?? 0)} (${formatBytes(num(r.deleted_size) ?? 0)})${cutoff}.`;
  }
  return formatJobResult(r);
}
