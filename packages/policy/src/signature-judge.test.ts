import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { FetchedManifest, SignatureSource } from './signature-discovery.ts';
import { signatureTagOf } from './signature-discovery.ts';
import { SignatureJudge } from './signature-judge.ts';
import { cosignFixtures as f } from './testing/cosign-fixtures.ts';
import { keySetFingerprint, parseKeySet } from './trusted-keys.ts';
import { MemoryVerdictStore, type VerdictStore } from './verdict-store.ts';

const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

/** An upstream in memory that counts what the judge reads. */
class FakeSource implements SignatureSource {
  readonly manifests = new Map<string, Buffer>();
  readonly blobs = new Map<string, Buffer>();
  reads = 0;
  freshReads = 0;

  async manifest(_image: string, reference: string): Promise<FetchedManifest | undefined> {
    this.reads++;
    const bytes = this.manifests.get(reference);
    return bytes && { digest: sha256(bytes), bytes, contentType: OCI_MANIFEST };
  }
  async freshManifest(image: string, reference: string): Promise<FetchedManifest | undefined> {
    this.freshReads++;
    return this.manifest(image, reference);
  }
  async referrers(): Promise<Buffer | undefined> {
    this.reads++;
    return undefined;
  }
  async blob(_image: string, digest: string): Promise<Buffer> {
    this.reads++;
    const bytes = this.blobs.get(digest);
    if (!bytes) throw new Error(`no blob ${digest}`);
    return bytes;
  }

  /** Pushes keyA's cosign signature of the fixture digest under its .sig tag. */
  sign(): void {
    const payload = f.payload('keyA');
    this.blobs.set(sha256(payload), payload);
    const manifest = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(Buffer.from('{}')), size: 2 },
      layers: [
        {
          mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
          digest: sha256(payload),
          size: payload.length,
          annotations: { 'dev.cosignproject.cosign/signature': f.signature('keyA') },
        },
      ],
    };
    this.manifests.set(signatureTagOf(f.digest), Buffer.from(JSON.stringify(manifest)));
  }
}

const image = { image: 'fixtures/app', digest: f.digest, bytes: Buffer.from('{"schemaVersion":2,"layers":[]}'), contentType: OCI_MANIFEST };

describe('signature judge', () => {
  it('verifies once, then answers from the verdict store without reading anything', async () => {
    const source = new FakeSource();
    source.sign();
    const judge = new SignatureJudge({ store: new MemoryVerdictStore(), negativeTtlMs: 60_000 });
    expect(await judge.judge(source, image, { keys: [f.key('keyA')] })).toEqual({
      pass: true,
      record: { how: 'signed', key: 'keyA' },
      cached: false,
    });
    const reads = source.reads;
    expect(await judge.judge(source, image, { keys: [f.key('keyA')] })).toMatchObject({ pass: true, cached: true });
    expect(source.reads).toBe(reads);
  });

  it('judges again when the key set changes: removing the signing key refuses at once', async () => {
    const source = new FakeSource();
    source.sign();
    const judge = new SignatureJudge({ store: new MemoryVerdictStore(), negativeTtlMs: 60_000 });
    expect((await judge.judge(source, image, { keys: [f.key('keyA'), f.key('keyB')] })).pass).toBe(true);
    expect(await judge.judge(source, image, { keys: [f.key('keyB')] })).toMatchObject({ pass: false, reason: 'untrusted' });
    expect((await judge.judge(source, image, { keys: [f.key('keyB'), f.key('keyA')] })).pass).toBe(true);
  });

  it('remembers a refusal for its TTL, then reads the signature tag fresh and finds a signature added meanwhile', async () => {
    const source = new FakeSource();
    let now = 1_000;
    const judge = new SignatureJudge({ store: new MemoryVerdictStore(), negativeTtlMs: 30_000, now: () => now });
    expect(await judge.judge(source, image, { keys: [f.key('keyA')] })).toMatchObject({ pass: false, reason: 'unsigned' });
    source.sign();
    const reads = source.reads;
    expect(await judge.judge(source, image, { keys: [f.key('keyA')] })).toMatchObject({ pass: false, reason: 'unsigned' });
    expect(source.reads).toBe(reads);
    now += 30_001;
    expect(await judge.judge(source, image, { keys: [f.key('keyA')] })).toMatchObject({ pass: true });
    expect(source.freshReads).toBe(1);
  });

  it('shares one check between concurrent judgements of a digest', async () => {
    const source = new FakeSource();
    source.sign();
    const judge = new SignatureJudge({ store: new MemoryVerdictStore(), negativeTtlMs: 60_000 });
    const verdicts = await Promise.all(Array.from({ length: 5 }, () => judge.judge(source, image, { keys: [f.key('keyA')] })));
    expect(verdicts.every((v) => v.pass)).toBe(true);
    expect(source.reads).toBe(2); // the .sig manifest and its payload blob
  });

  it('lets the platform manifests of a passing index pass through it, under the same key set only', async () => {
    const store = new MemoryVerdictStore();
    const judge = new SignatureJudge({ store, negativeTtlMs: 60_000 });
    const child = `sha256:${'c'.repeat(64)}`;
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [{ mediaType: OCI_MANIFEST, digest: child, size: 1, platform: { os: 'linux', architecture: 'amd64' } }],
      }),
    );
    const source = new FakeSource();
    const keys = { keys: [f.key('keyA')] };
    // The index was verified before (by this replica or another): its verdict is in the store.
    await store.put(keySetFingerprint(parseKeySet(keys.keys)), sha256(index), { how: 'signed', key: 'keyA' });
    expect((await judge.judge(source, { image: 'a/multi', digest: sha256(index), bytes: index, contentType: OCI_INDEX }, keys)).pass).toBe(
      true,
    );
    const childManifest = {
      image: 'a/multi',
      digest: child,
      bytes: Buffer.from('{"schemaVersion":2,"layers":[]}'),
      contentType: OCI_MANIFEST,
    };
    expect(await judge.judge(source, childManifest, keys)).toEqual({
      pass: true,
      record: { how: 'index', index: sha256(index), key: 'keyA' },
      cached: true,
    });
    expect(await judge.judge(source, childManifest, { keys: [f.key('keyB')] })).toMatchObject({ pass: false, reason: 'unsigned' });
  });

  it('serves signature artifacts unsigned, so verifiers can read them through the cache', async () => {
    const judge = new SignatureJudge({ store: new MemoryVerdictStore(), negativeTtlMs: 60_000 });
    const sig = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        layers: [{ mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', digest: f.digest, size: 1 }],
      }),
    );
    expect(
      await judge.judge(
        new FakeSource(),
        { image: 'a/b', digest: sha256(sig), bytes: sig, contentType: OCI_MANIFEST },
        { keys: [f.key('keyA')] },
      ),
    ).toMatchObject({
      pass: true,
      record: { how: 'artifact' },
    });
  });

  it('verifies without the store when the store fails, and says so', async () => {
    const errors: unknown[] = [];
    const broken: VerdictStore = {
      get: () => Promise.reject(new Error('kv down')),
      put: () => Promise.reject(new Error('kv down')),
    };
    const source = new FakeSource();
    source.sign();
    const judge = new SignatureJudge({ store: broken, negativeTtlMs: 60_000, onStoreError: (e) => errors.push(e) });
    expect((await judge.judge(source, image, { keys: [f.key('keyA')] })).pass).toBe(true);
    expect(errors.length).toBe(2);
  });
});
