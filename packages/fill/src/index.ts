export * from './fill-deps.ts';
export * from './upstream-chain.ts';
export * from './upstream-target.ts';
export * from './stored-publisher.ts';
export * from './manifest-fill.ts';
export * from './blob-fill.ts';
export * from './existing-blob.ts';
export * from './lease-keys.ts';
