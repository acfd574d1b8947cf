import { ErrorCodes } from '@vreg/contracts';
import { describe, expect, it } from 'vitest';
import { normalizeUpstreamUrl } from './upstream-url.ts';

describe('normalizeUpstreamUrl', () => {
  it('keeps an https base URL and drops trailing slashes', () => {
    expect(normalizeUpstreamUrl('https://registry-1.docker.io/')).toBe('https://registry-1.docker.io');
    expect(normalizeUpstreamUrl('http://127.0.0.1:5000')).toBe('http://127.0.0.1:5000');
    expect(normalizeUpstreamUrl('https://Example.COM/v2-mirror//')).toBe('https://example.com/v2-mirror');
  });

  it.each([
    ['credentials', 'https://user:pass@registry.example'],
    ['a user name alone', 'https://user@registry.example'],
    ['an empty userinfo', 'https://@registry.example'],
    ['another scheme', 'ftp://registry.example'],
    ['a file URL', 'file:///etc/passwd'],
    ['a query', 'https://registry.example/?token=x'],
    ['a fragment', 'https://registry.example/#x'],
    ['no URL at all', 'registry.example'],
  ])('rejects %s with VALIDATION_FAILED', (_what, url) => {
    expect(() => normalizeUpstreamUrl(url)).toThrow(expect.objectContaining({ code: ErrorCodes.validationFailed }));
  });

  it('allows an @ in the path, which is not userinfo', () => {
    expect(normalizeUpstreamUrl('https://registry.example/team@x')).toBe('https://registry.example/team@x');
  });
});
