import { type AdminApiClient, AdminApiError } from './admin-api-client.ts';
import { type CliIo, CommandFailedError } from './cli-io.ts';
import { isFinished, type JobJson } from './job-json.ts';
import { progressBarLine, progressLogLine } from './job-progress.ts';
import { describeJobResult } from './job-reports.ts';

/** First wait between polls; it grows (to MAX_POLL_INTERVAL_MS) while nothing changes, and starts again on a change. */
export const POLL_INTERVAL_MS = 250;
const MAX_POLL_INTERVAL_MS = 2000;
/** Polls that may fail in a row (server restarting, a blip) before the CLI gives up. */
const MAX_POLL_FAILURES = 8;

/**
 * Polls a job until it succeeds or fails. On a terminal: one line redrawn
 * with `\r`; otherwise one line per change of state or progress. `quiet`
 * (for --json) shows nothing. Returns the finished job.
 */
export async function followJob(
  api: AdminApiClient,
  io: CliIo,
  job: JobJson,
  options: { label: string; quiet: boolean },
): Promise<JobJson> {
  let current: JobJson;
  // Ctrl-C stops the following, not the job.
  io.setInterruptNote(`${job.kind} job ${job.id} keeps running on the server; follow it again with: vreg jobs wait ${job.id}`);
  try {
    current = await pollUntilFinished(api, io, job, options);
  } finally {
    io.setInterruptNote(undefined);
  }
  if (!options.quiet && io.errIsTty) io.errRaw('\n');
  return current;
}

async function pollUntilFinished(
  api: AdminApiClient,
  io: CliIo,
  job: JobJson,
  options: { label: string; quiet: boolean },
): Promise<JobJson> {
  let current = job;
  let shown = '';
  let failures = 0;
  let interval = POLL_INTERVAL_MS;
  for (;;) {
    const key = `${current.state} ${JSON.stringify(current.progress)}`;
    if (key !== shown) {
      shown = key;
      interval = POLL_INTERVAL_MS;
      if (!options.quiet) {
        if (io.errIsTty) io.errRaw(progressBarLine(options.label, current));
        else io.err(progressLogLine(options.label, current));
      }
    } else interval = Math.min(MAX_POLL_INTERVAL_MS, Math.round(interval * 1.5));
    if (isFinished(current)) return current;
    await io.sleep(interval);
    try {
      current = (await api.request<JobJson>('GET', `/jobs/${encodeURIComponent(job.id)}`)).body;
      failures = 0;
    } catch (err) {
      // Only an unreachable or failing server is worth waiting out; a 4xx (job gone, token revoked) is final.
      if (!(err instanceof AdminApiError) || (err.status !== 0 && err.status < 500) || ++failures >= MAX_POLL_FAILURES) throw err;
    }
  }
}

/**
 * Prints a finished job: the whole job as JSON with --json, else `done`
 * (or the result's fields) on stdout; a failed job's errors on stderr and
 * exit code 1.
 */
export function reportJob(job: JobJson, io: CliIo, options: { json: boolean; describe?: (job: JobJson) => string }): void {
  if (options.json) io.out(JSON.stringify(job, null, 2));
  if (job.state === 'failed') {
    throw new CommandFailedError(
      `${job.kind} job ${job.id} failed${job.errors.length === 0 ? ' (no error recorded)' : `:${job.errors.map((message) => `\n  ${message}`).join('')}`}`,
    );
  }
  if (options.json) return;
  const text = options.describe?.(job) ?? describeJobResult(job);
  io.out(text === '' ? `${job.kind} job ${job.id} ${job.state}.` : text);
  if (job.errors.length > 0) for (const message of job.errors) io.err(`warning: ${message}`);
}

/** Starts-and-waits as every job command does: follow unless --detach, then report. */
export async function runJob(
  api: AdminApiClient,
  io: CliIo,
  started: JobJson,
  options: { label: string; json: boolean; detach: boolean; describe?: (job: JobJson) => string },
): Promise<void> {
  if (options.detach) {
    if (options.json) io.out(JSON.stringify(started, null, 2));
    else io.out(started.id);
    if (!options.json) io.err(`Started ${started.kind} job ${started.id}; follow it with: vreg jobs wait ${started.id}`);
    return;
  }
  const finished = await followJob(api, io, started, { label: options.label, quiet: options.json });
  reportJob(finished, io, options);
}
