import { DenialModes, type DeniedKind, PolicyDeniedError, type RegistryView, SignatureModes } from '@vreg/contracts';
import type { Logger } from '@vreg/logging';
import type { PullTarget } from '@vreg/oci';
import { evaluatePullRules, type SignatureJudge, type SignatureSource, signatureModeFor } from '@vreg/policy';
import type { ManifestService } from '../pull/manifest-service.ts';
import type { ServedObject } from '../pull/served-object.ts';
import type { DenialRecorder } from './denial-recorder.ts';

export interface PullPolicyGateDeps {
  judge: SignatureJudge;
  recorder: DenialRecorder;
  /** Where a registry's signature artifacts are read from (its own pull path). */
  sourceFor: (registry: RegistryView) => SignatureSource;
  /** For the bytes of a manifest answered to a HEAD. */
  manifests: ManifestService;
  logger: Logger;
}

/**
 * The registry's pull policy, applied to every pull whatever route it came
 * by: `admit` judges the rules before anything is fetched or served (so a
 * refused image costs no upstream request), `vouch` the signature of a
 * manifest once its digest is known and before a byte of it is sent.
 * Refusals are 403 POLICY_DENIED (OCI `DENIED`) naming the rule or what the
 * signature check found, and are recorded; in audit mode the manifest is
 * served and the would-be refusal recorded.
 */
export class PullPolicyGate {
  readonly #deps: PullPolicyGateDeps;

  constructor(deps: PullPolicyGateDeps) {
    this.#deps = deps;
  }

  /** @throws POLICY_DENIED when a rule (or the default action) refuses the pull. */
  admit(registry: RegistryView, target: PullTarget, client: string): void {
    if (registry.policy === undefined) return;
    const tag = target.kind === 'manifest' && target.referenceKind === 'tag' ? target.reference : undefined;
    const decision = evaluatePullRules(registry.policy, { image: target.image, ...(tag === undefined ? {} : { tag }) });
    if (decision.allowed) return;
    const reference = target.kind === 'tags' ? 'tags/list' : target.kind === 'referrers' ? target.digest : target.reference;
    this.#deps.recorder.record({
      registryId: registry.id,
      image: target.image,
      reference,
      kind: target.kind satisfies DeniedKind,
      ...(target.kind !== 'tags' && reference.includes(':') ? { digest: reference } : {}),
      mode: DenialModes.enforce,
      reason: decision.reason,
      ...(decision.rule === undefined
        ? {}
        : { rule: { index: decision.rule.index, ...(decision.rule.name === undefined ? {} : { name: decision.rule.name }) } }),
      message: decision.message,
      client,
    });
    throw new PolicyDeniedError(decision.message, {
      registryId: registry.id,
      ...(decision.rule === undefined ? {} : { rule: decision.rule.index }),
    });
  }

  /**
   * Signature enforcement of a manifest about to be served (`audit`: served
   * anyway, recorded). Reading the signatures may fail (upstream down, not
   * cached): in enforce mode that error is the answer, never the manifest.
   * @throws POLICY_DENIED in enforce mode when no trusted key signed it (or the index that lists it).
   */
  async vouch(registry: RegistryView, target: PullTarget, served: ServedObject, client: string): Promise<void> {
    if (target.kind !== 'manifest' || registry.policy === undefined) return;
    const mode = signatureModeFor(registry.policy, target.image);
    if (mode === SignatureModes.off) return;
    let judgement: Awaited<ReturnType<SignatureJudge['judge']>>;
    try {
      const bytes = Buffer.isBuffer(served.body) ? served.body : await this.#bytesOf(registry, target.image, served.digest);
      judgement = await this.#deps.judge.judge(
        this.#deps.sourceFor(registry),
        { image: target.image, digest: served.digest, bytes, contentType: served.contentType },
        registry.policy.signatures,
      );
    } catch (err) {
      if (mode === SignatureModes.enforce) throw err;
      this.#deps.logger.warn(
        { registryId: registry.id, image: target.image, digest: served.digest, err: (err as Error).message },
        'audit: signatures could not be read',
      );
      return;
    }
    if (judgement.pass) return;
    const described = `${target.image}${target.referenceKind === 'tag' ? `:${target.reference}` : ''}@${served.digest}`;
    const message =
      mode === SignatureModes.enforce
        ? `pull of ${described} refused by signature enforcement: ${judgement.detail}`
        : `pull of ${described} would be refused by signature enforcement (audit mode): ${judgement.detail}`;
    this.#deps.recorder.record({
      registryId: registry.id,
      image: target.image,
      reference: target.reference,
      kind: 'manifest',
      digest: served.digest,
      mode: mode === SignatureModes.enforce ? DenialModes.enforce : DenialModes.audit,
      reason: judgement.reason,
      message: message.slice(0, 1000),
      client,
    });
    if (mode === SignatureModes.enforce) {
      if (served.body !== undefined && !Buffer.isBuffer(served.body)) served.body.destroy();
      throw new PolicyDeniedError(message, { registryId: registry.id, digest: served.digest, reason: judgement.reason });
    }
  }

  async #bytesOf(registry: RegistryView, image: string, digest: string): Promise<Buffer> {
    const full = await this.#deps.manifests.get(registry, image, digest, true, undefined);
    if (Buffer.isBuffer(full.body)) return full.body;
    throw new Error(`manifest ${digest} came without its bytes`);
  }
}
