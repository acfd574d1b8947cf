import { z } from 'zod';

const intFrom = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** Pull-policy settings of the gateway. Units in the names. */
export const GatewayPolicyEnv = {
  /** How long a signature refusal is remembered before the signatures are read again (the `.sig` tag then fresh from the upstream). */
  VREG_POLICY_REFUSAL_CACHE_MS: intFrom(1000, 3_600_000).default(30_000),
  /** Deadline of reading one signature artifact (a `.sig` manifest, a payload, a referrers list). */
  VREG_POLICY_SIGNATURE_TIMEOUT_MS: intFrom(1000, 600_000).default(30_000),
  /** How often refusals are published for the catalog's records; identical ones in between are sent once with a count. */
  VREG_POLICY_DENIAL_FLUSH_MS: intFrom(100, 600_000).default(1_000),
  /** Signature verdicts remembered in process when no shared store is given (embedded mode). */
  VREG_POLICY_VERDICT_CACHE_ENTRIES: intFrom(100, 10_000_000).default(100_000),
};
