import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { estimatedBits, tokenWeaknesses } from './token-strength.ts';

describe('tokenWeaknesses', () => {
  it('finds nothing wrong with what random generators make', () => {
    for (let i = 0; i < 2000; i += 1) {
      expect(tokenWeaknesses(randomBytes(32).toString('base64url'))).toEqual([]);
      expect(tokenWeaknesses(randomBytes(16).toString('hex'))).toEqual([]);
      expect(tokenWeaknesses(randomBytes(24).toString('base64'))).toEqual([]);
      // A prefix people add (admin-, vregat_) takes nothing away from the random part.
      expect(tokenWeaknesses(`admin-${randomBytes(16).toString('hex')}`)).toEqual([]);
    }
  });

  it('calls a short token short', () => {
    expect(tokenWeaknesses('Zx8!kQ2#mW9$pL4')).toContainEqual(expect.stringContaining('15 characters, fewer than 32'));
    expect(tokenWeaknesses(`Zx8!kQ2#mW9$pL4${'R7v@'.repeat(5)}`)).toEqual([]);
  });

  it('calls a repetitive token weak however long it is', () => {
    const reasons = tokenWeaknesses('ab'.repeat(40));
    expect(reasons).toContainEqual(expect.stringContaining('2 distinct characters'));
    expect(tokenWeaknesses('a'.repeat(64)).length).toBeGreaterThan(0);
  });

  it('calls dictionary and keyboard tokens weak', () => {
    for (const token of [
      'changeme-changeme-changeme-changeme',
      'password1234password1234password1234',
      'SuperSecretAdminToken2024SuperSecret',
      'abcdefghijklmnopqrstuvwxyz0123456789',
      'qwertyuiop-asdfghjkl-zxcvbnm-1234567890',
      'vreg-admin-token-for-the-test-registry',
    ])
      expect(tokenWeaknesses(token), token).toContainEqual(expect.stringContaining('without well-known words'));
  });

  it('never quotes the token in its reasons', () => {
    const token = 'password-password-hunter2-hunter2';
    for (const reason of tokenWeaknesses(token)) {
      expect(reason).not.toContain('hunter2');
      expect(reason).not.toContain('password');
    }
  });

  it('estimates bits from the character frequencies', () => {
    expect(estimatedBits('aaaa')).toBe(0);
    expect(estimatedBits('abcd')).toBe(8);
    expect(estimatedBits('')).toBe(0);
  });
});
