import type { ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';

/**
 * Something the bench pulls from: the upstream registry itself, the
 * reference (distribution in proxy mode) or vreg in either mode. Every
 * target is seen only through its `/v2` pull URLs.
 */
export interface PullTarget {
  /** Short name for logs. */
  label: string;
  /**
   * Repository base URLs, one per serving process (two for vreg with two
   * gateways): `<base>/<image>/manifests/<ref>` and `<base>/<image>/blobs/<digest>`.
   * Clients are spread over them round-robin.
   */
  bases: string[];
  /** Pids of every process of the target (CPU time is summed over them). */
  pids: number[];
  /** The processes that serve requests, whose memory is the figure (a vreg primary's workers); default `pids`. */
  servingPids?: number[];
  stop(): Promise<void>;
  /** Stops the process(es) and starts new ones on the same data (embedded vreg): a warm cache, a process that has served nothing. */
  restart?(): Promise<PullTarget>;
}

/** The upstream registry itself, for direct pulls; stopping it does nothing (the test env owns it). */
export function directTarget(upstreamUrl: string): PullTarget {
  return { label: 'direct', bases: [`${upstreamUrl}/v2`], pids: [], stop: async () => undefined };
}

/** Waits until `url` answers 200, or fails after `timeoutMs` with what the process printed. */
export async function waitForOk(what: string, url: string, timeoutMs: number, exited: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const gone = exited();
    if (gone !== undefined) throw new Error(`${what} exited before answering ${url}: ${gone}`);
    const res = await fetch(url).catch(() => undefined);
    if (res) await res.arrayBuffer().catch(() => undefined);
    if (res?.ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not answer ${url} within ${timeoutMs} ms`);
}

/** Keeps the last `limit` characters `child` prints (stdout and stderr), for error messages. */
export function outputTail(child: ChildProcessByStdio<null, Readable, Readable>, limit = 8_000): { text: () => string } {
  let out = '';
  const keep = (chunk: Buffer): void => {
    out = (out + chunk.toString()).slice(-limit);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  return { text: () => out };
}
