import { decodeKey, decodeKeys } from '@vreg/contracts';
import { SecretBox } from './secret-box.ts';

/** The secret keys as `SecretsEnv` (packages/contracts) validates them. */
export interface SecretsEnvSettings {
  VREG_SECRET_KEY: string;
  VREG_SECRET_KEY_PREVIOUS?: string | undefined;
}

/** The sealer of a process: the current key seals, previous keys still open older values. */
export function secretBoxFromEnv(config: SecretsEnvSettings): SecretBox {
  return new SecretBox(decodeKey(config.VREG_SECRET_KEY), decodeKeys(config.VREG_SECRET_KEY_PREVIOUS));
}
