import { formatBytes } from './format-bytes.ts';
import type { JobJson } from './job-json.ts';
import { formatRecord } from './print-record.ts';

function humanValue(key: string, value: unknown): string {
  if (typeof value === 'number' && /bytes|size|freed|free$/.test(key)) return `${formatBytes(value)} (${value} bytes)`;
  if (Array.isArray(value)) return value.length === 0 ? '-' : value.map(String).join(', ');
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}

/** A job's result as `key: value` lines, sizes in human units. */
export function formatJobResult(result: Record<string, unknown> | null): string {
  if (result === null || Object.keys(result).length === 0) return '';
  return formatRecord(Object.entries(result).map(([k, v]) => [k.replaceAll('_', ' '), humanValue(k, v)] as const));
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
const entries = (n: number): string => (n === 1 ? '1 entry' : `${n} entries`);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

/** The gc job's report: counts, bytes and the first digests. */
function describeGc(r: Record<string, unknown>): string {
  const dryRun = r.dry_run === true;
  const count = num(dryRun ? r.objects_would_delete : r.objects_deleted) ?? 0;
  const bytes = num(dryRun ? r.bytes_would_free : r.bytes_freed) ?? 0;
  const digests = Array.isArray(r.digests) ? (r.digests as unknown[]).map(String) : [];
  const head = dryRun
    ? `Dry run: ${plural(count, 'object')} would be deleted, freeing ${formatBytes(bytes)}.`
    : `Deleted ${plural(count, 'object')}, freed ${formatBytes(bytes)}.`;
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
