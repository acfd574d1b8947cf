import { createHash } from 'node:crypto';
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
  /** A keyless signature of the same digest (make-keyless-fixture.ts): certificate from a private CA, RFC 3161 timestamp, trusted root. */
  keyless: (): {
    digest: string;
    identity: { subject: string; issuer: string };
    trustedRoot: string;
    payload: Buffer;
    signature: string;
    certificate: string;
    timestamp: Buffer;
  } => {
    const k = JSON.parse(read('keyless.json')) as Record<string, string> & { identity: { subject: string; issuer: string } };
    return {
      digest: k.digest as string,
      identity: k.identity,
      trustedRoot: k.trustedRoot as string,
      payload: Buffer.from(k.payload as string, 'base64'),
      signature: k.signature as string,
      certificate: k.certificate as string,
      timestamp: Buffer.from(k.timestamp as string, 'base64'),
    };
  },
  /** The signed image: its manifest (hashing to `digest`), config and one layer. */
  image: (): { manifest: Buffer; config: Buffer; layer: Buffer } => ({
    manifest: readFileSync(join(dir, 'manifest.json')),
    config: readFileSync(join(dir, 'config.json')),
    layer: readFileSync(join(dir, 'layer.txt')),
  }),
};

const sha256 = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/**
 * A cosign signature manifest as `cosign sign` pushes it under
 * `sha256-<hex>.sig`: one simple-signing layer per signature, the payload
 * as the layer blob, the signature in the layer's annotation.
 */
export function cosignSignatureManifest(signatures: ReadonlyArray<{ payload: Buffer; signature: string }>): Buffer {
  const config = Buffer.from(
    '{"architecture":"","created":"0001-01-01T00:00:00Z","os":"","rootfs":{"type":"layers","diff_ids":[]},"config":{}}',
  );
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', size: config.length, digest: sha256(config) },
      layers: signatures.map((s) => ({
        mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
        size: s.payload.length,
        digest: sha256(s.payload),
        annotations: { 'dev.cosignproject.cosign/signature': s.signature },
      })),
    }),
  );
}
