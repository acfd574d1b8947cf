/**
 * Why a manifest digest passes signature enforcement under a key set:
 * `signed` by a trusted key itself; listed in an `index` that is; or a
 * signature `artifact` (served unsigned, so verifiers can read it).
 */
export type PassRecord = { how: 'signed'; key: string } | { how: 'index'; index: string; key: string } | { how: 'artifact' };

/**
 * Positive verdicts, per (key-set fingerprint, digest). A verdict never goes
 * stale for its key set: the bytes of a digest never change, and changing
 * the trusted keys changes the fingerprint. Shared by every gateway in
 * distributed mode (NATS KV), so a platform manifest pulled from another
 * replica than its index finds the index's verdict.
 */
export interface VerdictStore {
  /** The recorded pass, or undefined. @throws when the store cannot answer (callers then verify themselves). */
  get(fingerprint: string, digest: string): Promise<PassRecord | undefined>;
  /** Records a pass; idempotent. */
  put(fingerprint: string, digest: string, record: PassRecord): Promise<void>;
}

/** Verdicts of one process, the oldest forgotten past `maxEntries`. Embedded mode, fetchers, tests. */
export class MemoryVerdictStore implements VerdictStore {
  readonly #entries = new Map<string, PassRecord>();
  readonly #maxEntries: number;

  constructor(maxEntries = 100_000) {
    this.#maxEntries = maxEntries;
  }

  async get(fingerprint: string, digest: string): Promise<PassRecord | undefined> {
    const key = `${fingerprint}/${digest}`;
    const record = this.#entries.get(key);
    if (record !== undefined) {
      // Most recently used last, so eviction takes the least recently used.
      this.#entries.delete(key);
      this.#entries.set(key, record);
    }
    return record;
  }

  async put(fingerprint: string, digest: string, record: PassRecord): Promise<void> {
    const key = `${fingerprint}/${digest}`;
    this.#entries.delete(key);
    this.#entries.set(key, record);
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }
}
