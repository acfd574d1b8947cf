import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createLogger } from '@vreg/logging';
import { describe, expect, it } from 'vitest';
import { closeInOrder } from './graceful-shutdown.ts';

const silent = createLogger({ level: 'silent', name: 'test' });

/**
 * Starts the fixture, sends SIGTERM/SIGINT once it is `ready` (and, with
 * `again`, a second signal once its first step ran: two signals sent at once
 * would merge into one), and collects its output and exit code.
 */
async function runStopping(
  mode: string,
  signal: NodeJS.Signals,
  again?: NodeJS.Signals,
): Promise<{ code: number | null; lines: string[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures/stopping-process.ts'), mode], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  let sent = 0;
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    out += chunk;
    if (sent === 0 && out.includes('ready\n')) {
      sent = 1;
      child.kill(signal);
    }
    if (sent === 1 && again && out.includes('first stopping=true\n')) {
      sent = 2;
      child.kill(again);
    }
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  // pino's JSON lines say what happened; plain lines are the steps' own.
  return { code, lines: out.split('\n').filter((l) => l !== '') };
}

const messages = (lines: string[]) => lines.filter((l) => l.startsWith('{')).map((l) => (JSON.parse(l) as { msg: string }).msg);
const plain = (lines: string[]) => lines.filter((l) => !l.startsWith('{'));

describe('closeInOrder', () => {
  it('runs every step in order and keeps going after a failed one', async () => {
    const ran: string[] = [];
    const ok = await closeInOrder(silent, [
      { name: 'a', close: () => ran.push('a') },
      {
        name: 'b',
        close: async () => {
          ran.push('b');
          throw new Error('b broke');
        },
      },
      { name: 'c', close: async () => ran.push('c') },
    ]);
    expect(ran).toEqual(['a', 'b', 'c']);
    expect(ok).toBe(false);
  });

  it('reports success when every step closed', async () => {
    expect(await closeInOrder(silent, [{ name: 'a', close: async () => undefined }])).toBe(true);
  });
});

describe('closeOnSignals', () => {
  it('on SIGTERM marks readiness stopping, closes the steps in order and exits 0', async () => {
    const { code, lines } = await runStopping('ok', 'SIGTERM');
    expect(plain(lines)).toEqual(['ready', 'first stopping=true', 'middle', 'last']);
    // pino writes from the thread pool, so its lines may reach the pipe in another order than the steps' own.
    expect(messages(lines).sort()).toEqual(['stopped', 'stopping']);
    expect(code).toBe(0);
  });

  it('exits 1 when a step fails, after closing the steps behind it', async () => {
    const { code, lines } = await runStopping('fail', 'SIGINT');
    expect(plain(lines)).toEqual(['ready', 'first stopping=true', 'last']);
    expect(messages(lines)).toContain('stop step failed');
    expect(code).toBe(1);
  });

  it('exits 1 with a log line when the steps outlast the timeout', async () => {
    const { code, lines } = await runStopping('hang', 'SIGTERM');
    expect(plain(lines)).toEqual(['ready', 'first stopping=true']);
    expect(messages(lines)).toContain('stop timed out');
    expect(code).toBe(1);
  });

  it('exits 1 at once on a second signal while a step is still closing', async () => {
    const { code, lines } = await runStopping('hang-long', 'SIGTERM', 'SIGINT');
    expect(messages(lines)).toContain('second signal while stopping: exiting now');
    expect(messages(lines)).not.toContain('stop timed out');
    expect(code).toBe(1);
  });
});
