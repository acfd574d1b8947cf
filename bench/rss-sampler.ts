import { readFileSync } from 'node:fs';

/** kB fields of /proc/<pid>/status; undefined once the process is gone. */
function statusKb(pid: number): { rss: number; hwm: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const field = (name: string): number => Number(text.match(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm'))?.[1] ?? 0);
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
}

export interface RssPeak {
  /** Highest VmRSS sampled while running, MB (10^6 bytes), per pid. */
  sampledMb: number[];
  /** VmHWM at the end (peak since the process started), MB, per pid. */
  hwmMb: number[];
  /** RSS just before sampling began, MB, per pid. */
  baselineMb: number[];
}

/**
 * Samples the resident set size of processes the bench started every
 * `everyMs` (VmRSS from /proc/<pid>/status), and VmHWM at the end, so a
 * scenario can report how much memory a proxy needed while it ran.
 */
export class RssSampler {
  readonly #pids: number[];
  readonly #peakKb: number[];
  readonly #baselineKb: number[];
  #timer: NodeJS.Timeout | undefined;

  constructor(pids: number[], everyMs = 100) {
    this.#pids = pids;
    this.#baselineKb = pids.map((p) => statusKb(p)?.rss ?? 0);
    this.#peakKb = [...this.#baselineKb];
    this.#timer = setInterval(() => this.#sample(), everyMs);
  }

  #sample(): void {
    this.#pids.forEach((pid, i) => {
      const now = statusKb(pid);
      if (now && now.rss > this.#peakKb[i]!) this.#peakKb[i] = now.rss;
    });
  }

  /** Stops sampling (after one last sample) and reports the peaks. */
  stop(): RssPeak {
    this.#sample();
    clearInterval(this.#timer);
    this.#timer = undefined;
    const mb = (kb: number): number => (kb * 1024) / 1e6;
    return {
      sampledMb: this.#peakKb.map(mb),
      hwmMb: this.#pids.map((p) => mb(statusKb(p)?.hwm ?? 0)),
      baselineMb: this.#baselineKb.map(mb),
    };
  }
}

/** CPU time (user + system) a process has used so far, ms; undefined once it is gone. */
export function cpuMs(pid: number): number | undefined {
  const times = cpuTimes(pid);
  return times && times.userMs + times.systemMs;
}

/** User and system CPU time a process has used so far, ms; undefined once it is gone. */
export function cpuTimes(pid: number): { userMs: number; systemMs: number } | undefined {
  try {
    // Fields after the command name (which may contain spaces): utime and stime are the 12th and 13th, in clock ticks (100 Hz on Linux).
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
      .replace(/^.*\) /, '')
      .split(' ');
    return { userMs: Number(fields[11]) * 10, systemMs: Number(fields[12]) * 10 };
  } catch {
    return undefined;
  }
}

/**
 * Waits until every process in `pids` uses less than `busyShare` of a core
 * over a `windowMs` window (say, a registry still working off the backlog of
 * a run it could not keep up with), or `maxMs` passed. Resolves the ms waited.
 */
export async function waitForIdle(pids: number[], maxMs = 10_000, windowMs = 250, busyShare = 0.05): Promise<number> {
  const start = Date.now();
  let before = pids.map(cpuMs);
  while (Date.now() - start < maxMs) {
    await new Promise((r) => setTimeout(r, windowMs));
    const now = pids.map(cpuMs);
    const busy = now.some((ms, i) => ms !== undefined && before[i] !== undefined && ms - before[i]! > windowMs * busyShare);
    before = now;
    if (!busy) break;
  }
  return Date.now() - start;
}

/** CPU time all `pids` used so far together, ms. */
export function totalCpuMs(pids: number[]): number {
  return pids.reduce((sum, pid) => sum + (cpuMs(pid) ?? 0), 0);
}

/**
 * Time the main thread of each process spent runnable but waiting for a CPU
 * (the second field of /proc/<pid>/schedstat), summed over `pids`, ms: on a
 * loaded machine, the stalls no code of the process caused.
 */
export function runQueueWaitMs(pids: number[]): number {
  return pids.reduce((sum, pid) => {
    try {
      return sum + Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1e6;
    } catch {
      return sum;
    }
  }, 0);
}
