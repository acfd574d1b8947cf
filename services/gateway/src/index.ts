export * from './app.ts';
export * from './config.ts';
export * from './http/create-server.ts';
export type { CatalogClient } from './ports/catalog-client.ts';
export { TokenKeyRing, newTokenSigningSeed } from './auth/token-key-ring.ts';
