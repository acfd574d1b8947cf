import { DOCKER_HUB_HOST, mirroredImageName, NameUnknownError, normalizeMirrorHost, UnsupportedError } from '@vreg/contracts';
import { parsePullPath } from '@vreg/oci';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { MirrorDirectory } from '../ports/mirror-directory.ts';
import type { PullRequestTarget, PullRouteHandlers, PullTargetResolver } from './v2-routes.ts';

const ROOT_URL = '/*';

/** A pull's shape, before its parts are checked: anything else at the root is no route at all. */
const PULL_SHAPE = /^.+\/(manifests\/[^/]+|blobs\/[^/]+|tags\/list|referrers\/[^/]+|blobs\/uploads(\/.*)?)$/;

/**
 * Pulls at the root path, `/v2/<name>/(manifests|blobs|tags|referrers)/...`,
 * as container runtimes send them to a registry mirror: containerd adds
 * `?ns=<host>` (the host of the image reference: docker.io, ghcr.io,
 * registry.k8s.io), Docker's `registry-mirrors` send none and only ever
 * mirror Docker Hub. The registry mirroring that host serves the pull
 * through the same pipeline as the prefixed path: access, policy, cache.
 * For Docker Hub, `alpine` is `library/alpine`, as the Hub and Docker read it.
 */
export function mirrorRoutes(app: FastifyInstance, options: { mirrors: MirrorDirectory; route: PullRouteHandlers }): void {
  const resolve = rootTarget(options.mirrors);
  app.route({ method: ['GET', 'HEAD'], url: ROOT_URL, exposeHeadRoute: false, ...options.route(resolve) });
  app.route({
    method: ['POST', 'PUT', 'PATCH', 'DELETE'],
    url: ROOT_URL,
    handler: async () => {
      throw new UnsupportedError('a virtual registry is read-only: pushing and deleting are not supported');
    },
  });
}

/** The host a root-path pull is for: `ns` when present (containerd), else Docker Hub. */
export function mirrorHostOf(request: FastifyRequest): string {
  const ns = (request.query as { ns?: unknown }).ns;
  // A repeated ns is ambiguous: take none of them rather than guess.
  if (Array.isArray(ns)) throw new NameUnknownError('more than one ns parameter: name one upstream host');
  if (ns === undefined || ns === '') return DOCKER_HUB_HOST;
  const host = typeof ns === 'string' ? normalizeMirrorHost(ns) : undefined;
  if (host === undefined)
    throw new NameUnknownError(`no registry mirrors ${JSON.stringify(String(ns).slice(0, 100))}: not a registry host name`);
  return host;
}

function rootTarget(mirrors: MirrorDirectory): PullTargetResolver {
  return async (request): Promise<PullRequestTarget> => {
    const path = (request.params as { '*': string })['*'];
    if (!PULL_SHAPE.test(path)) throw new NameUnknownError('repository name not known to registry: no such route');
    const target = parsePullPath(path);
    const host = mirrorHostOf(request);
    const registryId = await mirrors.registryFor(host);
    if (registryId === undefined)
      throw new NameUnknownError(
        `no registry mirrors ${host}: set it as a mirror host of a registry, or pull through /v2/virtual_registries/containers/<id>/<name>`,
        { host },
      );
    return { registryId, target: { ...target, image: mirroredImageName(host, target.image) }, mirrorHost: host };
  };
}
