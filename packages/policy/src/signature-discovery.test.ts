import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type FetchedManifest, type SignatureSource, verifyDigestSignatures } from './signature-discovery.ts';
import { cosignFixtures as f } from './testing/cosign-fixtures.ts';
import { parseKeySet } from './trusted-keys.ts';

const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const BUNDLE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

/** An upstream without cosign's .sig tag, whose referrers (tag schema) list the given referrer manifests. */
function referrersSource(referrers: Buffer[], blobs: Buffer[]): SignatureSource & { manifestReads: string[] } {
  const byDigest = new Map(referrers.map((m) => [sha256(m), m]));
  const blobMap = new Map(blobs.map((b) => [sha256(b), b]));
  const reads: string[] = [];
  return {
    manifestReads: reads,
    async manifest(_image, reference): Promise<FetchedManifest | undefined> {
      reads.push(reference);
      const bytes = byDigest.get(reference);
      return bytes && { digest: reference, bytes, contentType: 'application/vnd.oci.image.manifest.v1+json' };
    },
    async referrers() {
      const manifests = referrers.map((m) => ({
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: sha256(m),
        size: m.length,
        artifactType: 'application/vnd.oci.empty.v1+json',
      }));
      return Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }));
    },
    async blob(_image, digest) {
      const bytes = blobMap.get(digest);
      if (!bytes) throw new Error('no blob');
      return bytes;
    },
  };
}

function bundleReferrer(subject: string, bundle: Buffer): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: BUNDLE,
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256(Buffer.from('{}')), size: 2 },
      layers: [{ mediaType: BUNDLE, digest: sha256(bundle), size: bundle.length }],
      subject: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: subject, size: 1 },
    }),
  );
}

describe('signature discovery', () => {
  it('finds a sigstore bundle among the referrers (tag schema), reading the referrer manifest for its type', async () => {
    const bundle = Buffer.from(JSON.stringify(f.bundle()));
    const source = referrersSource([bundleReferrer(f.digest, bundle)], [bundle]);
    expect(await verifyDigestSignatures(source, 'fixtures/app', f.digest, { keys: parseKeySet([f.key('keyA')]) })).toEqual({
      verified: true,
      key: 'keyA',
    });
    expect(source.manifestReads[0]).toBe(`${f.digest.replace(':', '-')}.sig`);
  });

  it('ignores a referrer whose subject is another digest', async () => {
    const bundle = Buffer.from(JSON.stringify(f.bundle()));
    const source = referrersSource([bundleReferrer(`sha256:${'1'.repeat(64)}`, bundle)], [bundle]);
    expect(await verifyDigestSignatures(source, 'fixtures/app', f.digest, { keys: parseKeySet([f.key('keyA')]) })).toMatchObject({
      verified: false,
      reason: 'unsigned',
    });
  });
});
