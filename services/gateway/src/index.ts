export * from './app.ts';
export { newTokenSigningSeed, TokenKeyRing } from './auth/token-key-ring.ts';
export * from './config.ts';
export * from './http/create-server.ts';
export type { CatalogClient } from './ports/catalog-client.ts';
