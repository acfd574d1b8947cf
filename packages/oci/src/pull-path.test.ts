import { describe, expect, it } from 'vitest';
import { assertRegistryId, parsePullPath } from './pull-path.ts';

const D = `sha256:${'a'.repeat(64)}`;
const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
    return undefined;
  } catch (e) {
    return (e as { code?: string }).code;
  }
};

describe('parsePullPath', () => {
  it('reads a manifest by tag with a nested image name', () => {
    expect(parsePullPath('team/app/api/manifests/1.0')).toEqual({
      kind: 'manifest',
      image: 'team/app/api',
      reference: '1.0',
      referenceKind: 'tag',
    });
  });

  it('reads a manifest and a blob by digest', () => {
    expect(parsePullPath(`library/alpine/manifests/${D}`)).toMatchObject({ referenceKind: 'digest' });
    expect(parsePullPath(`library/alpine/blobs/${D}`)).toMatchObject({ kind: 'blob', image: 'library/alpine', reference: D });
  });

  it('answers NAME_INVALID for names breaking the grammar', () => {
    for (const bad of ['Library/alpine', '../etc/manifests/x', 'a//b', '-a', 'a/./b', 'a..b', `${'a'.repeat(256)}`]) {
      expect(codeOf(() => parsePullPath(`${bad}/manifests/latest`))).toBe('NAME_INVALID');
    }
  });

  it('answers DIGEST_INVALID for malformed or unsupported digests', () => {
    for (const bad of ['sha256:abc', 'md5:' + 'a'.repeat(32), `sha256:${'A'.repeat(64)}`, 'sha256:..', 'nodigest']) {
      expect(codeOf(() => parsePullPath(`library/alpine/blobs/${bad}`))).toBe('DIGEST_INVALID');
    }
    expect(codeOf(() => parsePullPath(`library/alpine/manifests/sha999:${'a'.repeat(64)}`))).toBe('DIGEST_INVALID');
  });

  it('answers NAME_INVALID for an invalid tag', () => {
    expect(codeOf(() => parsePullPath('library/alpine/manifests/.hidden'))).toBe('NAME_INVALID');
    expect(codeOf(() => parsePullPath(`library/alpine/manifests/${'t'.repeat(129)}`))).toBe('NAME_INVALID');
  });

  it('reads tag lists and referrers', () => {
    expect(parsePullPath('team/app/api/tags/list')).toEqual({ kind: 'tags', image: 'team/app/api' });
    expect(parsePullPath(`library/a/referrers/${D}`)).toEqual({ kind: 'referrers', image: 'library/a', digest: D });
    expect(codeOf(() => parsePullPath('library/a/referrers/nope'))).toBe('DIGEST_INVALID');
  });

  it('answers UNSUPPORTED for uploads', () => {
    expect(codeOf(() => parsePullPath('library/alpine/blobs/uploads/'))).toBe('UNSUPPORTED');
    expect(codeOf(() => parsePullPath('library/alpine/blobs/uploads/1234'))).toBe('UNSUPPORTED');
  });

  it('accepts only positive integer registry ids', () => {
    expect(() => assertRegistryId('1')).not.toThrow();
    for (const bad of ['0', '-1', 'abc', '1.5', '01', '9'.repeat(30)]) expect(codeOf(() => assertRegistryId(bad))).toBe('NAME_INVALID');
  });
});

describe('parsePullPath with traversal attempts', () => {
  it('refuses dot segments wherever they appear', () => {
    for (const bad of [`library/alpine/blobs/sha256:../../x`, '../../manifests/latest', 'library/../manifests/latest']) {
      expect(['NAME_INVALID', 'DIGEST_INVALID']).toContain(codeOf(() => parsePullPath(bad)));
    }
  });
});
