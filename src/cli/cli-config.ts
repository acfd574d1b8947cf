import { z } from 'zod';
import { parseEnv } from '@vreg/contracts';

/** The CLI's settings, from the environment only: a token never belongs on a command line (it would show in `ps`). */
export const CliEnv = {
  /** Base URL of the admin API's server: the embedded vreg, or the catalog in distributed mode. */
  VREG_URL: z.url().regex(/^https?:\/\//, 'must be an http or https URL').default('http://127.0.0.1:5000'),
  /** The admin token, or an access token with the `admin` scope. */
  VREG_TOKEN: z.string({ error: 'is required: the admin token or an access token with the admin scope' }).min(1, 'is required: the admin token or an access token with the admin scope'),
};
export type CliConfig = Readonly<z.infer<z.ZodObject<typeof CliEnv>>>;

/** @throws ConfigInvalidError listing every problem. */
export function loadCliConfig(env: Record<string, string | undefined>): CliConfig {
  return parseEnv(CliEnv, env);
}
