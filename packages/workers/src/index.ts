/**
 * @vreg/workers: serving one address from several processes (node:cluster).
 * The supervisor forks and restarts workers and stops them gracefully; the
 * IPC link carries request/reply between a worker and its primary; in
 * embedded mode the bus and the fill leases live in the primary and
 * workers reach them over the link; `/metrics` is merged across processes.
 */
export { serveEventBus } from './event-bus-host.ts';
export { serveFillLease } from './fill-lease-host.ts';
export { IpcEventBus } from './ipc-event-bus.ts';
export { IpcFillLease } from './ipc-fill-lease.ts';
export { type IpcEndpoint, IpcLink, IpcUnavailableError } from './ipc-link.ts';
export { BusKinds, LeaseKinds, WorkerKinds } from './kinds.ts';
export { MetricsGatherer } from './metrics-gatherer.ts';
export { connectToPrimary, stopWhenAsked } from './primary-link.ts';
export { MAX_AUTO_WORKERS, parseCpuMax, usableCpus, WorkersEnv, workerCount } from './worker-count.ts';
export { WORKER_SLOT_ENV, WorkerSupervisor, type WorkerSupervisorOptions } from './worker-supervisor.ts';
