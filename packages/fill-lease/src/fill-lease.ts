/** A held lease: the holder is the one filler of an object until it releases or stops renewing. */
export interface Lease {
  readonly key: string;
  /** Extends the lease by the TTL it was taken with. Resolves false if it was lost (expired and taken by another). */
  renew(): Promise<boolean>;
  /** Gives the lease up so another filler need not wait for the expiry. Never throws. */
  release(): Promise<void>;
}

/**
 * Elects one filler per object across gateway replicas and fetchers
 * (NATS KV, create-only, with expiry; in-process in embedded mode).
 */
export interface FillLease {
  /**
   * Takes the lease on `key` for `ttlMs` if nobody holds it. Resolves the
   * lease, or undefined when another holder has it.
   */
  acquire(key: string, ttlMs: number, holder: string): Promise<Lease | undefined>;
  /** The current holder's id, if any (for diagnostics and waiting). */
  holderOf(key: string): Promise<string | undefined>;
}
