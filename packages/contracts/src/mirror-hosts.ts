import { z } from 'zod';

/** The name Docker Hub's images are referred to by, whatever host a client contacts for them. */
export const DOCKER_HUB_HOST = 'docker.io';

/**
 * Host names that are Docker Hub under another spelling: containerd sends
 * `ns=docker.io`, but an admin (or a client's config) may write the API host.
 */
const DOCKER_HUB_ALIASES: ReadonlySet<string> = new Set([
  'docker.io',
  'index.docker.io',
  'registry-1.docker.io',
  'registry.hub.docker.com',
]);

/** Upstream hosts one registry may mirror at most; more is a configuration mistake, not a use case. */
export const MIRROR_HOSTS_MAX = 50;

/** A registry host as image references name it: DNS labels (or an IPv4 address), optionally `:port`. */
const HOST_RE = /^(?=.{1,253}(:|$))[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?::[0-9]{1,5})?$/;

/**
 * The canonical form of an upstream registry host: lower case, Docker Hub's
 * aliases folded into `docker.io`. Undefined when it is not a host name
 * (a scheme, a path, a user, spaces, an IPv6 literal, a port above 65535).
 */
export function normalizeMirrorHost(value: string): string | undefined {
  const host = value.trim().toLowerCase();
  if (!HOST_RE.test(host)) return undefined;
  const port = host.includes(':') ? Number(host.slice(host.indexOf(':') + 1)) : undefined;
  if (port !== undefined && (port < 1 || port > 65_535)) return undefined;
  return DOCKER_HUB_ALIASES.has(host) ? DOCKER_HUB_HOST : host;
}

/**
 * The repository name a client means at a mirror of `host`: Docker Hub's
 * official images are `library/<name>`, and Docker (the client and the
 * Hub itself) treats `alpine` and `library/alpine` as one repository.
 */
export function mirroredImageName(host: string, image: string): string {
  return host === DOCKER_HUB_HOST && !image.includes('/') ? `library/${image}` : image;
}

/** `vreg.catalog.mirror.resolve`: which registry mirrors this host (already normalised). */
export const MirrorResolveRequestSchema = z.object({ host: z.string().min(1).max(260) });
export type MirrorResolveRequest = z.infer<typeof MirrorResolveRequestSchema>;

/** The registry mirroring the host; `registryId` absent when none does. */
export const MirrorResolveReplySchema = z.object({ registryId: z.string().optional() });
export type MirrorResolveReply = z.infer<typeof MirrorResolveReplySchema>;
