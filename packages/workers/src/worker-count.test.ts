import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MAX_AUTO_WORKERS, parseCpuMax, usableCpus, WorkersEnv, workerCount } from './worker-count.ts';

describe('worker count', () => {
  it('reads VREG_WORKERS as auto or a whole number', () => {
    const schema = z.object(WorkersEnv);
    expect(schema.parse({}).VREG_WORKERS).toBe('auto');
    expect(schema.parse({ VREG_WORKERS: '3' }).VREG_WORKERS).toBe(3);
    for (const bad of ['0', '-1', 'two', '1.5', '65']) expect(schema.safeParse({ VREG_WORKERS: bad }).success, bad).toBe(false);
  });

  it('takes auto as the CPUs this process may use, at most MAX_AUTO_WORKERS, at least 1', () => {
    expect(workerCount('auto', () => 1)).toBe(1);
    expect(workerCount('auto', () => 2)).toBe(2);
    expect(workerCount('auto', () => 64)).toBe(MAX_AUTO_WORKERS);
    expect(workerCount('auto', () => 0)).toBe(1);
    expect(workerCount(5, () => 2)).toBe(5);
  });

  it('follows a cgroup CPU limit, rounded up, never above the CPUs there are', () => {
    expect(parseCpuMax('max 100000')).toBeUndefined();
    expect(parseCpuMax('150000 100000')).toBe(1.5);
    expect(parseCpuMax(undefined)).toBeUndefined();
    expect(usableCpus(() => '150000 100000')).toBe(Math.min(2, availableParallelism()));
    expect(usableCpus(() => '50000 100000')).toBe(1);
    expect(usableCpus(() => `${1000 * 100000} 100000`)).toBe(availableParallelism());
  });
});
