import { describe, expect, it } from 'vitest';
import { mirroredImageName, normalizeMirrorHost } from './mirror-hosts.ts';

describe('normalizeMirrorHost', () => {
  it('folds Docker Hub’s host names into docker.io and lowers the case', () => {
    for (const h of ['docker.io', 'index.docker.io', 'Registry-1.Docker.io', ' registry.hub.docker.com '])
      expect(normalizeMirrorHost(h)).toBe('docker.io');
    expect(normalizeMirrorHost('GHCR.io')).toBe('ghcr.io');
    expect(normalizeMirrorHost('registry.example.com:5000')).toBe('registry.example.com:5000');
    expect(normalizeMirrorHost('localhost')).toBe('localhost');
    expect(normalizeMirrorHost('127.0.0.1:5000')).toBe('127.0.0.1:5000');
  });

  it('refuses what is not a host name', () => {
    for (const bad of [
      '',
      'https://ghcr.io',
      'ghcr.io/org',
      'a b',
      'user@ghcr.io',
      'ghcr.io:0',
      'ghcr.io:65536',
      '-x.io',
      'x-.io',
      '[::1]',
      'a..b',
      `${'a'.repeat(64)}.io`,
    ]) {
      expect(normalizeMirrorHost(bad), bad).toBeUndefined();
    }
  });
});

describe('mirroredImageName', () => {
  it('puts Docker Hub’s one-component names under library/, and only Docker Hub’s', () => {
    expect(mirroredImageName('docker.io', 'alpine')).toBe('library/alpine');
    expect(mirroredImageName('docker.io', 'library/alpine')).toBe('library/alpine');
    expect(mirroredImageName('docker.io', 'org/app')).toBe('org/app');
    expect(mirroredImageName('ghcr.io', 'app')).toBe('app');
  });
});
