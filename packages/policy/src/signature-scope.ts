import { type PullPolicy, type SignatureMode, SignatureModes } from '@vreg/contracts';
import { imageGlob } from './glob.ts';

/** The signature mode for an image: the first scope whose pattern matches it, else the policy's mode; `off` without a policy. */
export function signatureModeFor(policy: PullPolicy | undefined, image: string): SignatureMode {
  if (policy === undefined) return SignatureModes.off;
  const scope = policy.signatures.scopes?.find((s) => imageGlob(s.image)(image));
  return scope?.mode ?? policy.signatures.mode;
}
