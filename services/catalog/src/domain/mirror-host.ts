import { ConflictError } from '@vreg/contracts';

/**
 * An upstream registry host (`docker.io`, `ghcr.io`) one virtual registry
 * mirrors: pulls at the root path naming that host (containerd's `ns`, or
 * Docker's `registry-mirrors` for `docker.io`) go to that registry. A host
 * belongs to at most one registry.
 */
export interface MirrorHost {
  /** Normalised (`normalizeMirrorHost`): lower case, Docker Hub's aliases as `docker.io`. */
  readonly host: string;
  readonly registryId: string;
  readonly createdAt: Date;
}

/** Hosts in the order every store lists them. */
export function byHost(a: Pick<MirrorHost, 'host'>, b: Pick<MirrorHost, 'host'>): number {
  return a.host < b.host ? -1 : a.host > b.host ? 1 : 0;
}

/** The refusal every store gives when a host is another registry's: the 409 names both. */
export function mirrorHostTaken(host: string, registryId: string): ConflictError {
  return new ConflictError(`${host} is already mirrored by registry ${registryId}: a host belongs to one registry`, { host, registryId });
}
