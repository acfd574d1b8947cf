import type { Logger } from '@vreg/logging';
import { IpcLink } from './ipc-link.ts';
import { WorkerKinds } from './kinds.ts';
import { WORKER_SLOT_ENV } from './worker-supervisor.ts';

/** A worker's link to its primary, and its slot (1..count). @throws outside a cluster worker. */
export function connectToPrimary(): { link: IpcLink; slot: number } {
  if (typeof process.send !== 'function') throw new Error('not a worker process: no IPC channel to a primary');
  return {
    link: new IpcLink(process as unknown as ConstructorParameters<typeof IpcLink>[0]),
    slot: Number(process.env[WORKER_SLOT_ENV] ?? 0),
  };
}

/**
 * A worker stops when its primary says so: the stop given to `serving()`
 * (finish the requests in flight, flush what is owed to the primary), then
 * exit 0. Call it first thing, so a stop asked for while the worker still
 * starts is not lost: it runs as soon as the worker serves. Signals are the
 * primary's to handle (a terminal's Ctrl-C reaches every process of the
 * group; the primary then stops the workers in order). A worker whose
 * primary is gone has no one to report to: it exits at once.
 */
export function stopWhenAsked(link: IpcLink, logger: Logger): { serving(stop: () => Promise<void>): void } {
  let asked = false;
  let stop: (() => Promise<void>) | undefined;
  let stopping = false;
  const finish = (): void => {
    if (stopping || !stop) return;
    stopping = true;
    void stop()
      .catch((err: unknown) => logger.error({ err }, 'worker stopped with an error'))
      .finally(() => process.exit(0));
  };
  link.handle(WorkerKinds.shutdown, () => {
    asked = true;
    finish();
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => undefined);
  process.once('disconnect', () => {
    logger.error('the primary process is gone; exiting');
    process.exit(1);
  });
  return {
    serving(given) {
      stop = given;
      if (asked) finish();
    },
  };
}
