import { type ChildProcess, spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';

/** Processes spinning on every core; `stop()` ends them by their pids. */
export interface CpuHog {
  /** The spinning processes' pids. */
  readonly pids: readonly number[];
  stop(): Promise<void>;
}

/**
 * Starts one busy loop per core (at least two), each its own process, so
 * everything else on the machine (vreg's processes, NATS, the S3 server)
 * competes for CPU as on a loaded CI runner. Each loop also ends by itself
 * after `maxMs`, so a test that dies before `stop()` leaves nothing spinning.
 */
export async function startCpuHog(maxMs: number, processes = Math.max(2, availableParallelism())): Promise<CpuHog> {
  const loop = `const end = Date.now() + ${Math.floor(maxMs)}; let x = 0; while (Date.now() < end) x = (x + 1) % 1e9;`;
  const children: ChildProcess[] = [];
  for (let i = 0; i < processes; i++) {
    const child = spawn(process.execPath, ['-e', loop], { stdio: 'ignore' });
    children.push(child);
  }
  await Promise.all(children.map((c) => new Promise<void>((resolve, reject) => c.once('spawn', resolve).once('error', reject))));
  return {
    pids: children.map((c) => c.pid as number),
    async stop() {
      await Promise.all(
        children.map(
          (c) =>
            new Promise<void>((resolve) => {
              if (c.exitCode !== null || c.signalCode !== null) return resolve();
              c.once('exit', () => resolve());
              c.kill('SIGKILL');
            }),
        ),
      );
    },
  };
}
