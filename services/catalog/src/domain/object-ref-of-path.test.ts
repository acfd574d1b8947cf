import { relativePathOf } from '@vreg/contracts';
import { describe, expect, it } from 'vitest';
import { objectRefOfPath } from './object-ref-of-path.ts';

describe('objectRefOfPath', () => {
  it('reads back what relativePathOf wrote, nested image names included', () => {
    const refs = [
      { kind: 'manifest', image: 'library/alpine', reference: 'latest' },
      { kind: 'manifest', image: 'team/app/api', reference: `sha256:${'a'.repeat(64)}` },
      { kind: 'blob', image: 'busybox', reference: `sha256:${'b'.repeat(64)}` },
    ] as const;
    for (const ref of refs) expect(objectRefOfPath(relativePathOf(ref))).toEqual(ref);
  });

  it('answers undefined for a path that names no object', () => {
    expect(objectRefOfPath('library/alpine/tags/latest')).toBeUndefined();
    expect(objectRefOfPath('manifests/latest')).toBeUndefined();
  });
});
