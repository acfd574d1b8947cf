export * from './fill-lease.ts';
export * from './errors.ts';
export * from './memory/memory-fill-lease.ts';
export * from './nats/nats-kv-fill-lease.ts';
export * from './keep-renewed.ts';
