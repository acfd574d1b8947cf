import type { DenialMode, DenialReason, DeniedKind, PullPolicy } from '@vreg/contracts';

/** A registry's pull policy as stored (the policy itself is `@vreg/contracts`' PullPolicy, validated by `PullPolicies`). */
export interface StoredPullPolicy {
  readonly registryId: string;
  readonly policy: PullPolicy;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/**
 * One refusal by a pull policy (or, in audit mode, one the policy would
 * have made), as the catalog records it from a `policy.denied` event:
 * `count` identical refusals a gateway gathered, from `at` on.
 */
export interface PolicyDenial {
  /** The event id: recording the same event twice keeps one record. */
  readonly id: string;
  readonly registryId: string;
  readonly image: string;
  readonly reference: string;
  readonly kind: DeniedKind;
  readonly digest?: string;
  readonly mode: DenialMode;
  readonly reason: DenialReason;
  readonly rule?: { readonly index: number; readonly name?: string };
  readonly message: string;
  /** `access-token:<id>`, `anonymous` or `warm-job:<id>`. */
  readonly client: string;
  /** The access token's name when the client was one and it still existed when the record was made. */
  readonly tokenName?: string;
  readonly count: number;
  readonly at: Date;
}

/** Which records to list: one registry's, several (a restricted token's), or all of them. */
export interface PolicyDenialQuery {
  registryIds?: readonly string[];
}

/** Bounds on what is kept: records older than `maxAgeMs`, and past the newest `maxRecords`, are deleted. */
export interface PolicyDenialRetention {
  maxAgeMs: number;
  maxRecords: number;
}
