import { crypto as sigstoreCrypto } from '@sigstore/core';
import type { SignaturePolicy } from '@vreg/contracts';
import type { SignatureTrust } from './cosign-verifier.ts';
import { type KeylessTrust, parseKeylessTrust } from './keyless-trust.ts';
import { indexChildren, isIndex, isSignatureArtifact, parseManifest } from './oci-documents.ts';
import { type SignatureSource, verifyDigestSignatures } from './signature-discovery.ts';
import { keySetFingerprint, parseKeySet } from './trusted-keys.ts';
import { MemoryVerdictStore, type PassRecord, type VerdictStore } from './verdict-store.ts';

/** What a judged manifest looks like: its exact bytes (to see whether it is an index or a signature). */
export interface JudgedManifest {
  image: string;
  digest: string;
  bytes: Buffer;
  contentType: string;
}

export type Judgement =
  | { pass: true; record: PassRecord; cached: boolean }
  | { pass: false; reason: 'unsigned' | 'untrusted'; detail: string };

export interface SignatureJudgeOptions {
  store: VerdictStore;
  /** How long a refusal is remembered before the signatures are read again, ms. */
  negativeTtlMs: number;
  /** Refusals remembered at most. */
  maxNegatives?: number;
  /** Told when the verdict store fails; the judge then verifies without it. */
  onStoreError?: (err: unknown) => void;
  now?: () => number;
}

/**
 * Decides whether a manifest passes signature enforcement under a key set,
 * and remembers passes in the verdict store so that a hit costs neither an
 * upstream request nor a signature check:
 *
 * - a manifest passes when a trusted key signed its own digest;
 * - an image index that passes vouches for the platform manifests it lists
 *   (cosign signs only the index unless `--recursive`): each is recorded as
 *   passing through the index, under the same key set, before the index is
 *   served, so the client's next request (for a platform manifest, maybe on
 *   another replica) finds it. A platform manifest pulled on its own, whose
 *   index no client pulled under this key set, needs its own signature;
 * - signature artifacts pass unsigned (see `isSignatureArtifact`).
 *
 * A refusal is remembered for `negativeTtlMs`, then judged again with the
 * signature tag read fresh from the upstream (a signature added meanwhile is
 * then found). Concurrent judgements of one digest share one check.
 */
export class SignatureJudge {
  readonly #options: SignatureJudgeOptions;
  readonly #negatives = new Map<string, { until: number; judgement: Extract<Judgement, { pass: false }> }>();
  readonly #running = new Map<string, Promise<Judgement>>();
  /** Indexes whose children were recorded recently, so a hit on an index does not rewrite them each time. */
  readonly #covered = new Map<string, number>();
  /** Passes seen by this process: immutable per key, so a hit needs no round trip to a shared store. */
  readonly #passes = new MemoryVerdictStore(10_000);

  constructor(options: SignatureJudgeOptions) {
    this.#options = options;
  }

  /** @param trusted the policy's keys and keyless trust (what a signature may be verified with) */
  async judge(source: SignatureSource, manifest: JudgedManifest, trusted: Pick<SignaturePolicy, 'keys' | 'keyless'>): Promise<Judgement> {
    const trust = trustOf(trusted);
    const fingerprint = trustFingerprint(trust);
    const key = `${fingerprint}/${manifest.digest}`;
    const running = this.#running.get(key);
    if (running !== undefined) return running;
    const work = this.#judge(source, manifest, trust, fingerprint, key).finally(() => this.#running.delete(key));
    this.#running.set(key, work);
    return work;
  }

  async #judge(
    source: SignatureSource,
    manifest: JudgedManifest,
    trust: SignatureTrust,
    fingerprint: string,
    key: string,
  ): Promise<Judgement> {
    const document = parseManifest(manifest.bytes);
    const cached = await this.#stored(fingerprint, manifest.digest);
    if (cached !== undefined) {
      if (document !== undefined && cached.how === 'signed' && isIndex(document, manifest.contentType))
        await this.#cover(fingerprint, manifest.digest, indexChildren(document), cached.key);
      return { pass: true, record: cached, cached: true };
    }
    const now = (this.#options.now ?? Date.now)();
    const negative = this.#negatives.get(key);
    if (negative !== undefined && negative.until > now) return negative.judgement;
    if (document !== undefined && isSignatureArtifact(document, manifest.contentType))
      return this.#pass(fingerprint, manifest.digest, { how: 'artifact' });
    const verdict = await verifyDigestSignatures(
      negative === undefined ? source : freshSignatureTags(source),
      manifest.image,
      manifest.digest,
      trust,
    );
    if (!verdict.verified) {
      const judgement = { pass: false as const, reason: verdict.reason, detail: verdict.detail };
      this.#negatives.delete(key);
      this.#negatives.set(key, { until: now + this.#options.negativeTtlMs, judgement });
      while (this.#negatives.size > (this.#options.maxNegatives ?? 10_000)) {
        const oldest = this.#negatives.keys().next().value;
        if (oldest === undefined) break;
        this.#negatives.delete(oldest);
      }
      return judgement;
    }
    this.#negatives.delete(key);
    // Children first: once the index is served, its platform manifests are asked for at once.
    if (document !== undefined && isIndex(document, manifest.contentType))
      await this.#cover(fingerprint, manifest.digest, indexChildren(document), verdict.key);
    return this.#pass(fingerprint, manifest.digest, { how: 'signed', key: verdict.key });
  }

  async #pass(fingerprint: string, digest: string, record: PassRecord): Promise<Judgement> {
    await this.#passes.put(fingerprint, digest, record);
    try {
      await this.#options.store.put(fingerprint, digest, record);
    } catch (err) {
      this.#options.onStoreError?.(err);
    }
    return { pass: true, record, cached: false };
  }

  async #stored(fingerprint: string, digest: string): Promise<PassRecord | undefined> {
    const local = await this.#passes.get(fingerprint, digest);
    if (local !== undefined) return local;
    try {
      const shared = await this.#options.store.get(fingerprint, digest);
      if (shared !== undefined) await this.#passes.put(fingerprint, digest, shared);
      return shared;
    } catch (err) {
      this.#options.onStoreError?.(err);
      return undefined;
    }
  }

  async #cover(fingerprint: string, index: string, children: readonly string[], key: string): Promise<void> {
    const id = `${fingerprint}/${index}`;
    const now = (this.#options.now ?? Date.now)();
    if ((this.#covered.get(id) ?? 0) > now) return;
    try {
      await Promise.all(children.map((child) => this.#options.store.put(fingerprint, child, { how: 'index', index, key })));
      if (this.#covered.size >= 10_000) this.#covered.clear();
      // Re-recorded at most every ten minutes per index: a store that evicted a child's record gets it back.
      this.#covered.set(id, now + 600_000);
    } catch (err) {
      this.#options.onStoreError?.(err);
    }
  }
}

function trustOf(trusted: Pick<SignaturePolicy, 'keys' | 'keyless'>): SignatureTrust {
  let keyless: KeylessTrust | undefined;
  try {
    keyless = trusted.keyless === undefined ? undefined : parseKeylessTrust(trusted.keyless);
  } catch {
    // The catalog refuses such a trusted root when it is saved; a bad one here trusts nothing.
    keyless = undefined;
  }
  return { keys: parseKeySet(trusted.keys), ...(keyless === undefined ? {} : { keyless }) };
}

/**
 * What a verdict depends on: the keys' fingerprint, and with keyless trust
 * the trusted root and identities too. Keys alone keep their fingerprint,
 * so adding keyless trust re-verifies, and keyed verdicts are not lost
 * when nothing keyless is configured.
 */
function trustFingerprint(trust: SignatureTrust): string {
  const keys = keySetFingerprint(trust.keys);
  return trust.keyless === undefined ? keys : sigstoreCrypto.digest('sha256', `${keys}:${trust.keyless.fingerprint}`).toString('hex');
}

/** The same source, but asking the upstream again for signature tags and referrers instead of trusting cached copies. */
function freshSignatureTags(source: SignatureSource): SignatureSource {
  return {
    manifest: (image, reference) =>
      reference.endsWith('.sig') && source.freshManifest ? source.freshManifest(image, reference) : source.manifest(image, reference),
    referrers: (image, digest) => (source.freshReferrers ? source.freshReferrers(image, digest) : source.referrers(image, digest)),
    blob: (image, digest, maxBytes) => source.blob(image, digest, maxBytes),
  };
}
