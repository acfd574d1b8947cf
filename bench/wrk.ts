import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What one wrk run measured. Latencies are ms, from the request's send to the last byte of its answer. */
export interface WrkResult {
  requests: number;
  /** Answers with a status of 400 or more (wrk counts them as completed too). */
  badStatus: number;
  /** Connect, read and write errors and requests past the timeout. */
  socketErrors: number;
  /** Body and header bytes received. */
  bytes: number;
  seconds: number;
  /** 10^6 bytes per second. */
  mbps: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Requests that took longer than `slowMs` (wrk's own histogram, every request counted). */
  slow: number;
  slowMs: number;
}

export interface WrkOptions {
  url: string;
  connections: number;
  seconds: number;
  /** wrk threads; default 2 (one per core of the bench machine is plenty for a C client). */
  threads?: number;
  headers?: Record<string, string>;
  /** A request over this many ms counts in `slow`; default 1000. */
  slowMs?: number;
}

/**
 * The report script: wrk calls `done` once with its merged statistics.
 * `latency(i)` walks the histogram's distinct values (µs) with their
 * counts, so requests past a threshold are counted exactly, not estimated
 * from percentiles. The line it prints is the only JSON in wrk's output.
 */
const REPORT_LUA = `
done = function(summary, latency, requests)
  local slow = 0
  local limit = tonumber(os.getenv("WRK_SLOW_US"))
  for i = 1, #latency do
    local value, count = latency(i)
    if value > limit then slow = slow + count end
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"bytes":%d,"durationUs":%d,"status":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,"p50Us":%d,"p99Us":%d,"maxUs":%d,"slow":%d}\\n',
    summary.requests, summary.bytes, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max, slow))
end
`;

/**
 * Runs Debian's `wrk` (a C load generator: epoll, one thread per core,
 * keep-alive connections, closed loop) against one URL. The timeout is
 * set far past any answer, so a slow request is measured, not dropped.
 * @throws when wrk is missing or fails.
 */
export async function runWrk(options: WrkOptions): Promise<WrkResult> {
  const dir = await mkdtemp(join(tmpdir(), 'vreg-bench-wrk-'));
  const slowMs = options.slowMs ?? 1000;
  try {
    const script = join(dir, 'report.lua');
    await writeFile(script, REPORT_LUA);
    const headerArgs = Object.entries(options.headers ?? {}).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
    const args = [
      '-t',
      String(Math.min(options.threads ?? 2, options.connections)),
      '-c',
      String(options.connections),
      '-d',
      `${options.seconds}s`,
      '--timeout',
      '60s',
      '-s',
      script,
      ...headerArgs,
      options.url,
    ];
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(
        'wrk',
        args,
        { env: { ...process.env, WRK_SLOW_US: String(slowMs * 1000) }, maxBuffer: 1 << 20, timeout: (options.seconds + 90) * 1000 },
        (err, out, errOut) => {
          if (err) reject(new Error(`wrk ${args.join(' ')} failed: ${err.message} ${errOut}`));
          else resolve(out);
        },
      );
    });
    const line = stdout.split('\n').find((l) => l.startsWith('WRK_JSON '));
    if (!line) throw new Error(`wrk printed no report: ${stdout.slice(0, 500)}`);
    const r = JSON.parse(line.slice('WRK_JSON '.length)) as Record<string, number>;
    const seconds = r.durationUs! / 1e6;
    return {
      requests: r.requests!,
      badStatus: r.status!,
      socketErrors: r.connect! + r.read! + r.write! + r.timeout!,
      bytes: r.bytes!,
      seconds,
      mbps: r.bytes! / 1e6 / seconds,
      requestsPerSecond: r.requests! / seconds,
      p50Ms: r.p50Us! / 1000,
      p99Ms: r.p99Us! / 1000,
      maxMs: r.maxUs! / 1000,
      slow: r.slow!,
      slowMs,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Whether wrk is on PATH (scripts/test-env/install.sh installs it). */
export async function wrkVersion(): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('wrk', ['--version'], (_err, out) => {
      const first = String(out ?? '')
        .split('\n')[0]
        ?.trim();
      resolve(first?.startsWith('wrk') ? first : undefined);
    });
  });
}
