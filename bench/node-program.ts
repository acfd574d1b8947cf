import { spawn } from 'node:child_process';
import { freePort } from '../test/support/distributed-under-test.ts';
import { outputTail, waitForOk } from './pull-target.ts';
import { stopChild } from './vreg-targets.ts';

/** A running node program started by `startNodeProgram`. */
export interface NodeProgram {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  pid: number;
  /** Ends it by pid. */
  stop(): Promise<void>;
}

/**
 * `program` (`node -e`) in its own process, listening on the free port it
 * gets as PORT, with only PATH and `env` besides; resolves once `<url>/v2/`
 * answers 200, or fails with what it printed. The bench's bare servers.
 */
export async function startNodeProgram(label: string, program: string, env: Record<string, string>): Promise<NodeProgram> {
  const port = await freePort();
  const child = spawn(process.execPath, ['-e', program], {
    env: { PATH: process.env.PATH ?? '', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = outputTail(child);
  const url = `http://127.0.0.1:${port}`;
  const stop = (): Promise<void> => stopChild(child);
  try {
    await waitForOk(label, `${url}/v2/`, 10_000, () => (child.exitCode === null ? undefined : out.text()));
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, pid: child.pid!, stop };
}
