import type { PullPolicy } from '@vreg/contracts';
import { describe, expect, it } from 'vitest';
import { evaluatePullRules } from './pull-rules.ts';

const policy = (rules: PullPolicy['rules'], defaultAction: PullPolicy['defaultAction'] = 'allow'): PullPolicy => ({
  defaultAction,
  rules,
  signatures: { mode: 'off', keys: [] },
});

describe('pull rules', () => {
  it('allows everything without a policy', () => {
    expect(evaluatePullRules(undefined, { image: 'secret/app' })).toEqual({ allowed: true });
  });

  it('refuses by the first matching rule and names it', () => {
    const p = policy([
      { name: 'no-secrets', action: 'deny', image: 'secret/*' },
      { action: 'allow', image: '**' },
    ]);
    const d = evaluatePullRules(p, { image: 'secret/app', tag: 'latest' });
    expect(d).toMatchObject({ allowed: false, reason: 'rule', rule: { index: 1, name: 'no-secrets', summary: 'deny secret/*' } });
    expect(!d.allowed && d.message).toBe('pull of secret/app:latest refused by rule 1 "no-secrets" (deny secret/*)');
    expect(evaluatePullRules(p, { image: 'secret/app' }).allowed).toBe(false);
    expect(evaluatePullRules(p, { image: 'public/app' })).toMatchObject({ allowed: true, rule: { index: 2 } });
  });

  it('lets an earlier allow win over a later deny (order decides)', () => {
    const p = policy([
      { action: 'allow', image: 'secret/shared' },
      { action: 'deny', image: 'secret/*' },
    ]);
    expect(evaluatePullRules(p, { image: 'secret/shared' }).allowed).toBe(true);
    expect(evaluatePullRules(p, { image: 'secret/other' }).allowed).toBe(false);
  });

  it('applies the default action when no rule matches', () => {
    const p = policy([{ action: 'allow', image: 'library/*' }], 'deny');
    expect(evaluatePullRules(p, { image: 'library/alpine' }).allowed).toBe(true);
    const d = evaluatePullRules(p, { image: 'team/app' });
    expect(d).toMatchObject({ allowed: false, reason: 'default' });
    expect(!d.allowed && d.message).toMatch(/no rule of this registry allows it/);
  });

  it('judges tag conditions only on pulls by tag: a digest or blob skips them', () => {
    const p = policy(
      [
        { name: 'no-latest', action: 'deny', image: '**', tags: ['latest'] },
        { action: 'allow', image: 'org/**' },
      ],
      'deny',
    );
    expect(evaluatePullRules(p, { image: 'org/app', tag: 'latest' })).toMatchObject({ allowed: false, rule: { name: 'no-latest' } });
    expect(evaluatePullRules(p, { image: 'org/app', tag: '1.0' }).allowed).toBe(true);
    expect(evaluatePullRules(p, { image: 'org/app' }).allowed).toBe(true);
  });

  it('matches tag globs', () => {
    const p = policy([{ action: 'allow', image: 'library/nginx', tags: ['1.*', 'stable'] }], 'deny');
    expect(evaluatePullRules(p, { image: 'library/nginx', tag: '1.27' }).allowed).toBe(true);
    expect(evaluatePullRules(p, { image: 'library/nginx', tag: 'stable' }).allowed).toBe(true);
    expect(evaluatePullRules(p, { image: 'library/nginx', tag: '2.0' }).allowed).toBe(false);
  });

  it('judges platform conditions only for warm-ups, a platform covering its variants', () => {
    const p = policy([{ name: 'no-arm', action: 'deny', image: '**', platforms: ['linux/arm64'] }]);
    expect(evaluatePullRules(p, { image: 'a/b', tag: 'v1', platform: 'linux/arm64/v8' }).allowed).toBe(false);
    expect(evaluatePullRules(p, { image: 'a/b', tag: 'v1', platform: 'linux/amd64' }).allowed).toBe(true);
    expect(evaluatePullRules(p, { image: 'a/b', tag: 'v1' }).allowed).toBe(true);
  });
});
