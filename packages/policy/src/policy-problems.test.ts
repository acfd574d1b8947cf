import { describe, expect, it } from 'vitest';
import { pullPolicyProblems } from './policy-problems.ts';
import { cosignFixtures as f } from './testing/cosign-fixtures.ts';

describe('policy problems', () => {
  it('accepts a usable policy', () => {
    expect(
      pullPolicyProblems({
        defaultAction: 'allow',
        rules: [{ action: 'deny', image: 'secret/*' }],
        signatures: { mode: 'enforce', keys: [f.key('keyA'), f.key('keyB')], scopes: [{ image: 'tools/**', mode: 'off' }] },
      }),
    ).toEqual([]);
  });

  it('lists every problem at once', () => {
    const problems = pullPolicyProblems({
      defaultAction: 'allow',
      rules: [{ action: 'deny', image: 'a//b' }],
      signatures: {
        mode: 'enforce',
        keys: [f.key('ed25519'), { ...f.key('keyA'), name: 'ed25519' }],
        scopes: [{ image: 'x**', mode: 'audit' }],
      },
    });
    expect(problems).toEqual([
      expect.stringMatching(/^rules\[0\]: .*empty path component/),
      expect.stringMatching(/^signatures.scopes\[0\]: .*whole path component/),
      expect.stringMatching(/^signatures.keys\[0\]: .*Ed25519/),
      expect.stringMatching(/^signatures.keys\[1\]: another key is named "ed25519"/),
    ]);
  });

  it('wants a key when signatures are checked', () => {
    expect(pullPolicyProblems({ defaultAction: 'allow', rules: [], signatures: { mode: 'audit', keys: [] } })).toEqual([
      expect.stringMatching(/need at least one trusted key/),
    ]);
  });
});
