import { type ChildProcess, spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';

/**
 * One busy loop per core, each its own process, so everything else on the
 * machine competes for CPU as on a loaded CI runner. Each loop also ends by
 * itself after `maxMs`: a bench that dies leaves nothing spinning.
 */
export function startCpuHog(maxMs: number, processes = Math.max(2, availableParallelism())): { stop(): Promise<void> } {
  const loop = `const end = Date.now() + ${Math.floor(maxMs)}; let x = 0; while (Date.now() < end) x = (x + 1) % 1e9;`;
  const children: ChildProcess[] = Array.from({ length: processes }, () => spawn(process.execPath, ['-e', loop], { stdio: 'ignore' }));
  return {
    stop: () =>
      Promise.all(
        children.map(
          (c) =>
            new Promise<void>((resolve) => {
              if (c.exitCode !== null || c.signalCode !== null) return resolve();
              c.once('exit', () => resolve());
              c.kill('SIGKILL');
            }),
        ),
      ).then(() => undefined),
  };
}
