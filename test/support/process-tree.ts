import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/**
 * Pids of the processes whose parent is `pid` and that run the same
 * executable (a vreg primary's worker processes; not the esbuild helper tsx
 * starts beside it), from /proc. Linux only, like the bench and the tests.
 */
export function workerPids(pid: number): number[] {
  const exe = (p: number | string): string | undefined => {
    try {
      return readlinkSync(`/proc/${p}/exe`);
    } catch {
      return undefined;
    }
  };
  const own = exe(pid);
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // "<pid> (<command>) <state> <ppid> ...": the command may hold spaces, so cut after its ')'.
      const fields = readFileSync(`/proc/${entry}/stat`, 'utf8')
        .replace(/^.*\) /, '')
        .split(' ');
      if (Number(fields[1]) === pid && own !== undefined && exe(entry) === own) out.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return out.sort((a, b) => a - b);
}
