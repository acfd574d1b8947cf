import { type DenialReason, DenialReasons, PolicyActions, type PolicyRule, type PullPolicy } from '@vreg/contracts';
import { imageGlob, tagGlob } from './glob.ts';

/** What a rule is judged on: the repository, and the tag or platform when the request has one. */
export interface PullFacts {
  image: string;
  /** Set for a manifest asked for by tag (a warm-up's tag too); absent for digests, blobs and listings. */
  tag?: string;
  /** Set for a warm-up's platform choice; pulls carry none. */
  platform?: string;
}

/** The rule that decided, as refusals and records name it. */
export interface DecidingRule {
  /** 1-based position in the policy. */
  index: number;
  name?: string;
  /** `deny secret/*`, `allow library/** tags [1.*]`: the rule in words. */
  summary: string;
}

export type RuleDecision =
  | { allowed: true; rule?: DecidingRule }
  | { allowed: false; reason: Extract<DenialReason, 'rule' | 'default'>; rule?: DecidingRule; message: string };

/**
 * Judges a pull by the policy's rules, in order: the first rule whose image
 * pattern matches, and whose tag and platform conditions (when it has them)
 * the request meets, decides. A request without a tag (by digest, a blob, a
 * listing) skips rules with tag conditions: a digest names content, not a
 * tag, so a tag condition cannot judge it. Likewise pulls skip rules with
 * platform conditions; those choose what warm-ups fetch. No match: the
 * policy's default action. No policy: allowed.
 */
export function evaluatePullRules(policy: PullPolicy | undefined, facts: PullFacts): RuleDecision {
  if (policy === undefined) return { allowed: true };
  for (const [i, rule] of policy.rules.entries()) {
    if (!ruleMatches(rule, facts)) continue;
    const deciding = decidingRule(rule, i + 1);
    if (rule.action === PolicyActions.allow) return { allowed: true, rule: deciding };
    return {
      allowed: false,
      reason: DenialReasons.rule,
      rule: deciding,
      message: `pull of ${describePull(facts)} refused by ${ruleLabel(deciding)} (${deciding.summary})`,
    };
  }
  if (policy.defaultAction === PolicyActions.allow) return { allowed: true };
  return {
    allowed: false,
    reason: DenialReasons.default,
    message: `pull of ${describePull(facts)} refused: no rule of this registry allows it and its default action is deny`,
  };
}

export function ruleMatches(rule: PolicyRule, facts: PullFacts): boolean {
  if (!imageGlob(rule.image)(facts.image)) return false;
  if (rule.tags !== undefined) {
    if (facts.tag === undefined || !rule.tags.some((t) => tagGlob(t)(facts.tag as string))) return false;
  }
  if (rule.platforms !== undefined) {
    if (facts.platform === undefined || !rule.platforms.some((p) => platformCovers(p, facts.platform as string))) return false;
  }
  return true;
}

/** `linux/arm64` covers `linux/arm64/v8`; `linux/arm64/v8` only itself. */
function platformCovers(pattern: string, platform: string): boolean {
  return platform === pattern || platform.startsWith(`${pattern}/`);
}

function decidingRule(rule: PolicyRule, index: number): DecidingRule {
  const conditions = [
    rule.tags === undefined ? '' : ` tags [${rule.tags.join(', ')}]`,
    rule.platforms === undefined ? '' : ` platforms [${rule.platforms.join(', ')}]`,
  ].join('');
  return { index, ...(rule.name === undefined ? {} : { name: rule.name }), summary: `${rule.action} ${rule.image}${conditions}` };
}

/** `rule 2 "no-secrets"` or `rule 2`. */
export function ruleLabel(rule: Pick<DecidingRule, 'index' | 'name'>): string {
  return rule.name === undefined ? `rule ${rule.index}` : `rule ${rule.index} "${rule.name}"`;
}

function describePull(facts: PullFacts): string {
  return `${facts.image}${facts.tag === undefined ? '' : `:${facts.tag}`}${facts.platform === undefined ? '' : ` (${facts.platform})`}`;
}
