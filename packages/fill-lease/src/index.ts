export * from './errors.ts';
export type * from './fill-lease.ts';
export * from './keep-renewed.ts';
export * from './memory/memory-fill-lease.ts';
export * from './nats/nats-kv-fill-lease.ts';
