import type { AccessTokenRepository } from './access-token-repository.ts';
import type { CacheEntryRepository } from './cache-entry-repository.ts';
import type { CleanupPolicyRepository } from './cleanup-policy-repository.ts';
import type { GcCandidateRepository } from './gc-candidate-repository.ts';
import type { JobRepository } from './job-repository.ts';
import type { PolicyDenialRepository } from './policy-denial-repository.ts';
import type { PullPolicyRepository } from './pull-policy-repository.ts';
import type { RegistryRepository } from './registry-repository.ts';
import type { UpstreamRepository } from './upstream-repository.ts';

/**
 * The catalog database: the repositories over one connection
 * (MongoDB, SQLite or memory). Writes across repositories are not atomic;
 * callers order them so that a crash leaves nothing visible half-done.
 */
export interface CatalogStore {
  readonly registries: RegistryRepository;
  readonly upstreams: UpstreamRepository;
  readonly cacheEntries: CacheEntryRepository;
  readonly accessTokens: AccessTokenRepository;
  /** Long operations started through the admin API (purge, cleanup, GC, warm-up). */
  readonly jobs: JobRepository;
  /** Per-registry cleanup policies and the audit records of their runs. */
  readonly cleanupPolicies: CleanupPolicyRepository;
  /** Digests no live entry references any more, on their way to having their objects deleted (GC). */
  readonly gcCandidates: GcCandidateRepository;
  /** Per-registry pull policies: rules and signature verification. */
  readonly pullPolicies: PullPolicyRepository;
  /** The records of pull-policy refusals (bounded). */
  readonly policyDenials: PolicyDenialRepository;
  /** Releases the connection or file handle. The store is unusable afterwards. */
  close(): Promise<void>;
}
