import { type PullPolicy, SignatureModes } from '@vreg/contracts';
import { imagePatternProblem } from './glob.ts';
import { parseKeylessTrust, UnusableTrustedRootError } from './keyless-trust.ts';
import { parseTrustedKey, UnusableKeyError } from './trusted-keys.ts';

/**
 * What is wrong with a policy the schema accepted, every problem at once
 * (empty when it is usable): image patterns that cannot match as meant, keys
 * vreg cannot verify with (Ed25519, unreadable PEM, short RSA), duplicate
 * key names, and signature checks with no key to check with.
 */
export function pullPolicyProblems(policy: PullPolicy): string[] {
  const problems: string[] = [];
  policy.rules.forEach((rule, i) => {
    const problem = imagePatternProblem(rule.image);
    if (problem !== undefined) problems.push(`rules[${i}]: ${problem}`);
  });
  (policy.signatures.scopes ?? []).forEach((scope, i) => {
    const problem = imagePatternProblem(scope.image);
    if (problem !== undefined) problems.push(`signatures.scopes[${i}]: ${problem}`);
  });
  const names = new Set<string>();
  policy.signatures.keys.forEach((key, i) => {
    if (names.has(key.name)) problems.push(`signatures.keys[${i}]: another key is named ${JSON.stringify(key.name)}`);
    names.add(key.name);
    try {
      parseTrustedKey(key);
    } catch (err) {
      if (!(err instanceof UnusableKeyError)) throw err;
      problems.push(`signatures.keys[${i}]: ${err.message}`);
    }
  });
  if (policy.signatures.keyless !== undefined) {
    try {
      parseKeylessTrust(policy.signatures.keyless);
    } catch (err) {
      if (!(err instanceof UnusableTrustedRootError)) throw err;
      problems.push(`signatures.keyless.trusted_root: ${err.message}`);
    }
  }
  const modes = [policy.signatures.mode, ...(policy.signatures.scopes ?? []).map((s) => s.mode)];
  if (policy.signatures.keys.length === 0 && policy.signatures.keyless === undefined && modes.some((m) => m !== SignatureModes.off))
    problems.push('signatures: audit and enforce need at least one trusted key (signatures.keys) or keyless trust (signatures.keyless)');
  return problems;
}
