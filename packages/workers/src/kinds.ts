/** Message kinds between a worker and the primary (IpcLink's `kind`). */
export const BusKinds = {
  publish: 'bus.publish',
  request: 'bus.request',
  broadcast: 'bus.broadcast',
  listen: 'bus.listen',
  unlisten: 'bus.unlisten',
  /** Primary → worker: a broadcast on a subject the worker listens to. */
  message: 'bus.message',
} as const;

export const LeaseKinds = {
  acquire: 'lease.acquire',
  renew: 'lease.renew',
  release: 'lease.release',
  holderOf: 'lease.holderOf',
} as const;

export const WorkerKinds = {
  /** Worker → primary: the merged Prometheus exposition of every process. */
  gatherMetrics: 'metrics.gather',
  /** Primary → worker: this worker's own exposition. */
  renderMetrics: 'metrics.render',
  /** Primary → worker: finish what is running and exit. */
  shutdown: 'shutdown',
} as const;
