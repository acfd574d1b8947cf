import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { z } from 'zod';

/** Workers `auto` never goes past: each one holds its own caches (manifest bytes, catalog lookups) and connections. */
export const MAX_AUTO_WORKERS = 8;

/**
 * `VREG_WORKERS`: how many processes serve the pull API. `auto` (the
 * default) is one per CPU this process may use (its affinity and, in a
 * container, its cgroup CPU limit), at most MAX_AUTO_WORKERS; a number sets
 * it. 1 serves from the process itself, with no worker processes.
 */
export const WorkersEnv = {
  VREG_WORKERS: z
    .union([z.literal('auto'), z.coerce.number().int().min(1).max(64)], { error: 'must be auto or a whole number from 1 to 64' })
    .default('auto'),
};

/** The number of workers a `VREG_WORKERS` value means on this machine. */
export function workerCount(setting: 'auto' | number, cpus: () => number = usableCpus): number {
  if (setting !== 'auto') return setting;
  return Math.max(1, Math.min(MAX_AUTO_WORKERS, cpus()));
}

/**
 * CPUs this process may use: `os.availableParallelism()` (which follows
 * the affinity mask, so `taskset` and cpusets count) bounded by the cgroup
 * v2 CPU quota (`cpu.max`, a Kubernetes CPU limit), rounded up.
 */
export function usableCpus(readCpuMax: () => string | undefined = readOwnCpuMax): number {
  const cpus = availableParallelism();
  const quota = parseCpuMax(readCpuMax());
  return quota === undefined ? cpus : Math.max(1, Math.min(cpus, Math.ceil(quota)));
}

/** CPUs a cgroup v2 `cpu.max` ("<quota> <period>" or "max <period>") allows; undefined for no limit. */
export function parseCpuMax(text: string | undefined): number | undefined {
  const [quota, period] = (text ?? '').trim().split(/\s+/);
  const q = Number(quota);
  const p = Number(period);
  if (!quota || quota === 'max' || !Number.isFinite(q) || !Number.isFinite(p) || q <= 0 || p <= 0) return undefined;
  return q / p;
}

/** This process's cgroup v2 `cpu.max`, if the system has one. */
function readOwnCpuMax(): string | undefined {
  try {
    // "0::/some/path" on a cgroup v2 system; containers usually see "0::/".
    const line = readFileSync('/proc/self/cgroup', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('0::'));
    const path = line?.slice(3).trim() ?? '/';
    return readFileSync(`/sys/fs/cgroup${path === '/' ? '' : path}/cpu.max`, 'utf8');
  } catch {
    return undefined;
  }
}
