import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TrustedKey } from '@vreg/contracts';

const dir = join(import.meta.dirname, 'fixtures');
const read = (name: string): string => readFileSync(join(dir, name), 'utf8');

/**
 * Signatures made by real cosign v2.6.1 over one image (fixtures/make-fixtures.sh
 * says how): keyA's and p384's classic signatures, keyA's sigstore bundle.
 */
export const cosignFixtures = {
  digest: read('digest.txt').trim(),
  key: (name: 'keyA' | 'keyB' | 'p384' | 'ed25519' | 'rsa1024'): TrustedKey => ({ name, pem: read(`${name}.pub`) }),
  payload: (name: 'keyA' | 'p384'): Buffer => readFileSync(join(dir, `${name}.payload`)),
  signature: (name: 'keyA' | 'p384'): string => read(`${name}.sig`).trim(),
  bundle: (): unknown => JSON.parse(read('keyA.bundle.json')) as unknown,
};
