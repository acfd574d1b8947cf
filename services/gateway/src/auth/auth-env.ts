import { intFrom, parseKey, splitList } from '@vreg/contracts';
import { z } from 'zod';
import { MAX_TOKEN_KEYS } from './token-key-ring.ts';

/** Access-control settings of the gateway, the same in embedded and distributed mode. Units in the names. */
export const GatewayAuthEnv = {
  /**
   * Base URL clients reach vreg at (`https://registry.example.com`): the
   * challenge's realm is `<this>/v2/token`. Unset: the scheme and Host of
   * each request (fine behind nothing; set it behind a proxy).
   */
  VREG_EXTERNAL_URL: z
    .url()
    .regex(/^https?:\/\/[^/?#]+\/?$/, 'must be http(s)://host[:port] with no path')
    .transform((v) => v.replace(/\/$/, ''))
    .optional(),
  /** `service` of the challenge and `aud` of registry tokens. */
  VREG_TOKEN_SERVICE: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,128}$/, 'letters, digits, . _ : - only')
    .default('vreg'),
  /** `iss` of registry tokens. */
  VREG_TOKEN_ISSUER: z
    .string()
    .regex(/^[A-Za-z0-9._:/-]{1,128}$/, 'letters, digits, . _ : / - only')
    .default('vreg'),
  /** Lifetime of a registry token in seconds (clients fetch a new one when it ends). */
  VREG_TOKEN_TTL_SECONDS: intFrom(30, 3600).default(300),
  /**
   * Ed25519 signing keys of registry tokens: 32-byte seeds as 64 hex chars or
   * base64, comma-separated, at most two; the first signs, all verify (key
   * rotation). The same on every gateway. Unset: derived from
   * VREG_SECRET_KEY (distributed) or generated into the data dir (embedded).
   */
  VREG_TOKEN_SIGNING_KEYS: z
    .string()
    .refine((v) => {
      const parts = splitList(v);
      return parts.length >= 1 && parts.length <= MAX_TOKEN_KEYS && parts.every((p) => parseKey(p) !== undefined);
    }, `1 to ${MAX_TOKEN_KEYS} comma-separated 32-byte keys as 64 hex chars or base64`)
    .optional(),
  /**
   * Proxies in front of the gateway (comma-separated addresses or CIDRs,
   * e.g. `10.0.0.0/8`) whose X-Forwarded-For, -Proto and -Host are believed:
   * the client address then comes from X-Forwarded-For (per-address
   * throttling), the realm's scheme and host from the others. Unset: none,
   * and behind a proxy every client shares the proxy's address.
   */
  VREG_TRUST_PROXY: z
    .string()
    .regex(/^[0-9A-Fa-f:./]+(\s*,\s*[0-9A-Fa-f:./]+)*$/, 'comma-separated IP addresses or CIDRs')
    .optional(),
  /** Failed token requests one client address (IPv6: one /64) may make in a row before it gets 429. */
  VREG_AUTH_FAILURES_PER_ADDRESS: intFrom(1, 100_000).default(20),
  /** Failed token requests for one username from one client address before that pair gets 429 (never other addresses). */
  VREG_AUTH_FAILURES_PER_USERNAME: intFrom(1, 100_000).default(10),
  /** Seconds for a throttled address or username to earn back all its attempts. */
  VREG_AUTH_FAILURE_WINDOW_SECONDS: intFrom(1, 86_400).default(300),
};
