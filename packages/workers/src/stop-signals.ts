/**
 * SIGTERM and SIGINT for a primary (or a single process), taken from its
 * first moment: with workers, one of them may already answer (and a
 * supervisor send SIGTERM) while the others still start. `ready(stop)`
 * says what stopping means once there is something to stop; a signal that
 * came earlier stops it then. The process exits 0 once `stop` resolved.
 */
export function stopOnSignals(onSignal: (signal: NodeJS.Signals) => void = () => undefined): { ready(stop: () => Promise<void>): void } {
  const state: { signal?: NodeJS.Signals; stop?: () => Promise<void>; stopping: boolean } = { stopping: false };
  const maybeStop = (): void => {
    if (state.stopping || !state.stop || !state.signal) return;
    state.stopping = true;
    onSignal(state.signal);
    void state.stop().then(() => process.exit(0));
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      state.signal ??= signal;
      maybeStop();
    });
  }
  return {
    ready(stop) {
      state.stop = stop;
      maybeStop();
    },
  };
}
