import { randomUUID } from 'node:crypto';
import type { EventBus } from '@vreg/bus';
import {
  DenialModes,
  type DenialReason,
  type PolicyDenied,
  PolicyDeniedError,
  type RegistryView,
  SignatureModes,
  Subjects,
} from '@vreg/contracts';
import type { Logger } from '@vreg/logging';
import { isDigest } from '@vreg/oci';
import { evaluatePullRules, ruleLabel, type SignatureJudge, type SignatureSource, signatureModeFor } from '@vreg/policy';
import type { VregMetrics } from '@vreg/telemetry';

/** The warm-up being judged: its job, registry and image, and the tag (or digest) asked for. */
export interface WarmSubject {
  jobId: string;
  registry: RegistryView;
  image: string;
  tag: string;
}

export interface WarmPolicyDeps {
  bus: EventBus;
  judge: SignatureJudge;
  metrics: VregMetrics;
  logger: Logger;
}

/**
 * The registry's pull policy applied to warm-ups, as the gateway applies it
 * to pulls: the rules before anything is fetched, platform rules on the
 * index's entries, the signature of the manifest the tag names once it is
 * fetched. A refusal fails the job with the reason (POLICY_DENIED is not
 * retried) and is recorded like a pull's, the client being `warm-job:<id>`.
 */
export class WarmPolicy {
  readonly #deps: WarmPolicyDeps;

  constructor(deps: WarmPolicyDeps) {
    this.#deps = deps;
  }

  /** @throws POLICY_DENIED when a rule refuses the image (or its tag). */
  async admit(subject: WarmSubject): Promise<void> {
    const decision = evaluatePullRules(subject.registry.policy, {
      image: subject.image,
      ...(isDigest(subject.tag) ? {} : { tag: subject.tag }),
    });
    if (decision.allowed) return;
    await this.#refuse(subject, decision.reason, decision.message, decision.rule);
  }

  /**
   * Which of an index's platforms the rules let this warm fetch: the refused
   * ones are left out of `all`; one asked for by name fails the warm.
   * @throws POLICY_DENIED naming the rule when an asked-for platform is refused.
   */
  async platformsAllowed(subject: WarmSubject, platforms: readonly string[], askedByName: boolean): Promise<Set<string>> {
    const allowed = new Set<string>();
    for (const platform of platforms) {
      const decision = evaluatePullRules(subject.registry.policy, {
        image: subject.image,
        ...(isDigest(subject.tag) ? {} : { tag: subject.tag }),
        platform,
      });
      if (decision.allowed) allowed.add(platform);
      else if (askedByName) await this.#refuse(subject, decision.reason, decision.message, decision.rule);
      else
        this.#deps.logger.info(
          { jobId: subject.jobId, platform, rule: decision.rule?.index },
          'platform left out of the warm by the policy',
        );
    }
    return allowed;
  }

  /**
   * Signature enforcement of the manifest the warm's tag names (an index
   * passing vouches for its platform manifests). Audit mode records and goes on.
   * @throws POLICY_DENIED in enforce mode when no trusted key signed it.
   */
  async vouch(
    subject: WarmSubject,
    manifest: { digest: string; bytes: Buffer; contentType: string },
    source: SignatureSource,
  ): Promise<void> {
    const { policy } = subject.registry;
    const mode = signatureModeFor(policy, subject.image);
    if (policy === undefined || mode === SignatureModes.off) return;
    const judgement = await this.#deps.judge.judge(source, { image: subject.image, ...manifest }, policy.signatures);
    if (judgement.pass) return;
    const what = `warm of ${subject.image}:${subject.tag} (${manifest.digest})`;
    if (mode === SignatureModes.enforce) {
      await this.#refuse(
        subject,
        judgement.reason,
        `${what} refused by signature enforcement: ${judgement.detail}`,
        undefined,
        manifest.digest,
      );
    }
    await this.#record(
      subject,
      DenialModes.audit,
      judgement.reason,
      `${what} would be refused by signature enforcement (audit mode): ${judgement.detail}`,
      undefined,
      manifest.digest,
    );
  }

  async #refuse(
    subject: WarmSubject,
    reason: DenialReason,
    message: string,
    rule?: { index: number; name?: string },
    digest?: string,
  ): Promise<never> {
    await this.#record(subject, DenialModes.enforce, reason, message, rule, digest);
    throw new PolicyDeniedError(message, { registryId: subject.registry.id, ...(rule === undefined ? {} : { rule: ruleLabel(rule) }) });
  }

  async #record(
    subject: WarmSubject,
    mode: PolicyDenied['mode'],
    reason: DenialReason,
    message: string,
    rule?: { index: number; name?: string },
    digest?: string,
  ): Promise<void> {
    this.#deps.metrics.policyDenial(subject.registry.id, mode, reason);
    const event: PolicyDenied = {
      eventId: randomUUID(),
      registryId: subject.registry.id,
      image: subject.image,
      reference: subject.tag,
      kind: 'warm',
      ...(digest === undefined ? {} : { digest }),
      mode,
      reason,
      ...(rule === undefined ? {} : { rule: { index: rule.index, ...(rule.name === undefined ? {} : { name: rule.name }) } }),
      message: message.slice(0, 1000),
      client: `warm-job:${subject.jobId}`,
      count: 1,
      at: new Date().toISOString(),
    };
    try {
      await this.#deps.bus.publish(Subjects.policyDenied, event, { msgId: event.eventId });
    } catch (err) {
      // The refusal stands (the job fails with its reason); only its record is lost.
      this.#deps.logger.warn({ jobId: subject.jobId, err: (err as Error).message }, 'could not record a warm refused by the policy');
    }
  }
}
