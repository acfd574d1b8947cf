import { formatBytes } from './format-bytes.ts';
import type { JobJson } from './job-json.ts';

const BAR_WIDTH = 24;

/** Done fraction 0..1 by bytes when their total is known, else by objects; undefined when neither total is. */
export function progressFraction(job: JobJson): number | undefined {
  const p = job.progress;
  if (job.state === 'succeeded') return 1;
  if (p.bytes_total !== null && p.bytes_total > 0) return Math.min(1, p.bytes_done / p.bytes_total);
  if (p.objects_total !== null && p.objects_total > 0) return Math.min(1, p.objects_done / p.objects_total);
  return undefined;
}

/** `3/7 objects  1.2 MiB/4.0 MiB  30%`: the numbers both renderings share. */
export function describeProgress(job: JobJson): string {
  const p = job.progress;
  const objects = p.objects_total === null ? `${p.objects_done} objects` : `${p.objects_done}/${p.objects_total} objects`;
  const bytes = p.bytes_total === null ? formatBytes(p.bytes_done) : `${formatBytes(p.bytes_done)}/${formatBytes(p.bytes_total)}`;
  const fraction = progressFraction(job);
  return `${objects}  ${bytes}  ${fraction === undefined ? '--%' : `${Math.floor(fraction * 100)}%`}`;
}

/** The terminal's single line, redrawn in place: `\r`, the line, then erase what a longer previous line left. */
export function progressBarLine(label: string, job: JobJson): string {
  const fraction = progressFraction(job);
  const filled = fraction === undefined ? 0 : Math.round(fraction * BAR_WIDTH);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`;
  return `\r${label} ${job.state.padEnd(9)} ${bar} ${describeProgress(job)}\x1b[K`;
}

/** One line per change, for logs and pipes. */
export function progressLogLine(label: string, job: JobJson): string {
  return `${label} ${job.state}: ${describeProgress(job).replaceAll('  ', ', ')}`;
}
