export * from './blob-fill.ts';
export * from './existing-blob.ts';
export type * from './fill-deps.ts';
export * from './lease-keys.ts';
export * from './manifest-fill.ts';
export * from './spool.ts';
export * from './stored-publisher.ts';
export * from './upstream-chain.ts';
export * from './upstream-target.ts';
