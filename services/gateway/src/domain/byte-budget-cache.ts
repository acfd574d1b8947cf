import { LRUCache } from 'lru-cache';

/** Immutable byte strings by key (manifests by digest); an `LRUCache` fits it. */
export interface ByteBudgetCache {
  get(key: string): Buffer | undefined;
  set(key: string, value: Buffer): unknown;
  /** Bytes held. */
  readonly calculatedSize: number;
}

/**
 * Byte strings by key, least recently used first out once their total size
 * passes the budget; a value larger than the whole budget is not kept. A hit
 * costs no disk trip: each stored-manifest read was four thread-pool calls.
 *
 * @param budgetBytes total bytes kept; 0 keeps nothing.
 */
export function byteBudgetCache(budgetBytes: number): ByteBudgetCache {
  // lru-cache wants a positive budget and positive sizes: a 0 budget is "off", and an empty value counts as 1 byte.
  if (budgetBytes <= 0) return { get: () => undefined, set: () => undefined, calculatedSize: 0 };
  return new LRUCache<string, Buffer>({ maxSize: budgetBytes, sizeCalculation: (value) => Math.max(1, value.length) });
}
