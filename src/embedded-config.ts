import { CatalogAppEnv } from '@vreg/catalog';
import { HttpEnv, LogEnv, parseEnv, SecretsEnv } from '@vreg/contracts';
import { FetcherFillEnv } from '@vreg/fetcher';
import { GatewayPullEnv } from '@vreg/gateway';
import { TelemetryEnv } from '@vreg/telemetry';
import { WorkersEnv } from '@vreg/workers';
import { z } from 'zod';

/** Embedded mode: every service in one process, state under one data directory. */
export const EmbeddedEnv = {
  ...LogEnv,
  ...HttpEnv,
  ...TelemetryEnv,
  ...FetcherFillEnv,
  ...GatewayPullEnv,
  ...CatalogAppEnv,
  ...WorkersEnv,
  /** Blobs, the catalog database and generated keys live here. */
  VREG_DATA_DIR: z.string().min(1).default('./data'),
  /** Admin API token; generated at first start (and printed once) when unset. */
  VREG_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /** 32-byte key sealing upstream passwords; generated into the data dir when unset. */
  VREG_SECRET_KEY: z.string().optional(),
  /** Retired keys that still open (rotation), comma-separated; see SecretsEnv. */
  VREG_SECRET_KEY_PREVIOUS: SecretsEnv.VREG_SECRET_KEY_PREVIOUS,
};
export type EmbeddedConfig = Readonly<z.infer<z.ZodObject<typeof EmbeddedEnv>>>;

export function loadEmbeddedConfig(env: Record<string, string | undefined>): EmbeddedConfig {
  return parseEnv(EmbeddedEnv, env);
}
