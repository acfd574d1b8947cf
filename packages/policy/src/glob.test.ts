import { describe, expect, it } from 'vitest';
import { imageGlob, imagePatternProblem, tagGlob } from './glob.ts';

describe('image globs', () => {
  it('matches one path component with *', () => {
    const g = imageGlob('library/*');
    expect(g('library/alpine')).toBe(true);
    expect(g('library/a/b')).toBe(false);
    expect(g('library')).toBe(false);
    expect(g('other/alpine')).toBe(false);
  });

  it('matches every repository under a prefix with **, at any depth, but not the prefix itself', () => {
    const g = imageGlob('org/**');
    expect(g('org/a')).toBe(true);
    expect(g('org/a/b/c')).toBe(true);
    expect(g('org')).toBe(false);
    expect(g('organisation/a')).toBe(false);
  });

  it('matches everything with ** alone, and any depth with a leading **/', () => {
    expect(imageGlob('**')('a/b/c')).toBe(true);
    const g = imageGlob('**/cache');
    expect(g('cache')).toBe(true);
    expect(g('a/b/cache')).toBe(true);
    expect(g('a/cache2')).toBe(false);
    expect(imageGlob('org/**/api')('org/api')).toBe(true);
    expect(imageGlob('org/**/api')('org/x/y/api')).toBe(true);
  });

  it('takes . - _ literally and ? as one character', () => {
    expect(imageGlob('team/app.v1')('team/appXv1')).toBe(false);
    expect(imageGlob('team/app-?')('team/app-1')).toBe(true);
    expect(imageGlob('team/app-?')('team/app-12')).toBe(false);
    expect(imageGlob('team/app-?')('team/app-/')).toBe(false);
  });

  it('explains patterns that cannot mean what they say', () => {
    expect(imagePatternProblem('org/**')).toBeUndefined();
    expect(imagePatternProblem('/org')).toMatch(/starts or ends/);
    expect(imagePatternProblem('org//a')).toMatch(/empty path component/);
    expect(imagePatternProblem('org/a**')).toMatch(/whole path component/);
    expect(imagePatternProblem('***')).toMatch(/\*\*\*/);
  });
});

describe('tag globs', () => {
  it('matches any run of characters with *', () => {
    expect(tagGlob('1.*')('1.25.3')).toBe(true);
    expect(tagGlob('1.*')('11.0')).toBe(false);
    expect(tagGlob('latest')('latest')).toBe(true);
    expect(tagGlob('latest')('latest2')).toBe(false);
    expect(tagGlob('v?')('v1')).toBe(true);
  });
});
