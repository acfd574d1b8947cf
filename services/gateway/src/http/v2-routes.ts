import { MediaTypes, NameInvalidError, UnsupportedError } from '@vreg/contracts';
import { assertRegistryId, type PullTarget, parsePullPath } from '@vreg/oci';
import { notePull } from '@vreg/telemetry';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest, RouteShorthandOptions } from 'fastify';
import type { PullGuard } from '../auth/pull-guard.ts';
import { parseRangeHeader } from '../domain/byte-range.ts';
import { clientOfRequest } from '../policy/client-of-request.ts';
import type { PullPolicyGate } from '../policy/pull-policy-gate.ts';
import type { CatalogClient } from '../ports/catalog-client.ts';
import type { MirrorDirectory } from '../ports/mirror-directory.ts';
import type { BlobService } from '../pull/blob-service.ts';
import type { ListingService } from '../pull/listing-service.ts';
import type { ManifestService } from '../pull/manifest-service.ts';
import { replyListing } from './listing-reply.ts';
import { mirrorRoutes } from './mirror-routes.ts';
import { ociErrorHandler } from './oci-error-handler.ts';
import { sendBlob } from './send-blob.ts';

export interface V2RoutesOptions {
  catalog: CatalogClient;
  manifests: ManifestService;
  blobs: BlobService;
  listings: ListingService;
  /** Access control: a preHandler for `/v2/` and the check of every pull. */
  guard: PullGuard;
  /** Which registry mirrors which upstream host: pulls at the root path (`/v2/<image>/...`) go by it. */
  mirrors: MirrorDirectory;
  /** The registry's pull policy: rules before anything is fetched, signatures before a manifest is sent. */
  policy: PullPolicyGate;
}

/** Where a pull goes, decided from the route before anything else looks at it. */
export interface PullRequestTarget {
  registryId: string;
  /** What is asked for; the image is the registry's own name for it (Docker Hub's `library/` added at the root). */
  target: PullTarget;
  /** The upstream host the root path routed by (containerd's `ns`, else docker.io); absent on the prefixed path. */
  mirrorHost?: string;
}

/** Turns a request into its pull target, or throws the client's error (NAME_INVALID, NAME_UNKNOWN...). */
export type PullTargetResolver = (request: FastifyRequest) => Promise<PullRequestTarget>;

/** Route options of a pull route: resolve, check access, then the one pull pipeline. */
export type PullRouteHandlers = (resolve: PullTargetResolver) => Pick<RouteShorthandOptions, 'preHandler'> & {
  handler: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
};

const PULL_URL = '/virtual_registries/containers/:registryId/*';
const API_VERSION = 'registry/2.0';

/**
 * The OCI Distribution pull API, registered under `/v2`. HEAD is declared
 * explicitly: fastify's automatic HEAD would run the GET handler and drain a
 * whole blob from upstream.
 */
export const v2Routes: FastifyPluginAsync<V2RoutesOptions> = async (app, options) => {
  app.setErrorHandler(ociErrorHandler);
  app.setNotFoundHandler(async (_request, reply) =>
    reply.code(404).send({
      errors: [
        {
          code: 'NAME_UNKNOWN',
          message:
            'repository name not known to registry: pull through /v2/virtual_registries/containers/<id>/<name>, or /v2/<name> from a registry mirroring the host',
        },
      ],
    }),
  );
  app.addHook('onRequest', async (_request, reply) => {
    reply.header('Docker-Distribution-API-Version', API_VERSION);
  });

  app.get('/', { exposeHeadRoute: true, preHandler: options.guard.ping }, async () => ({}));

  const route = pullRouteHandlers(options);
  app.route({ method: ['GET', 'HEAD'], url: PULL_URL, exposeHeadRoute: false, ...route(prefixedTarget) });

  app.route({
    method: ['POST', 'PUT', 'PATCH', 'DELETE'],
    url: PULL_URL,
    handler: async () => {
      throw new UnsupportedError('a virtual registry is read-only: pushing and deleting are not supported');
    },
  });

  app.get('/_catalog', async () => {
    throw new UnsupportedError('listing repositories is not supported');
  });

  // After every static and parametric route above: find-my-way tries a wildcard last.
  mirrorRoutes(app, { mirrors: options.mirrors, route });
};

/** `/v2/virtual_registries/containers/<id>/<rest>`: the registry is in the path. */
const prefixedTarget: PullTargetResolver = async (request) => {
  const params = request.params as { registryId: string; '*': string };
  assertRegistryId(params.registryId);
  return { registryId: params.registryId, target: parsePullPath(params['*']) };
};

/**
 * One pipeline for every pull route: the target is resolved (the path
 * parsed, the registry found), access checked, then `pull` serves it.
 */
function pullRouteHandlers(options: V2RoutesOptions): PullRouteHandlers {
  const targets = new WeakMap<FastifyRequest, PullRequestTarget>();
  return (resolve) => ({
    preHandler: async (request, reply) => {
      // find-my-way decodes %2F into '/': refuse encoded separators and dots before they can change the path.
      if (/%2f|%5c|%2e|%00/i.test(request.raw.url ?? '')) throw new NameInvalidError('encoded path separators are not allowed');
      const resolved = await resolve(request);
      targets.set(request, resolved);
      notePull(request, {
        registry: resolved.registryId,
        image: resolved.target.image,
        reference:
          'reference' in resolved.target ? resolved.target.reference : 'digest' in resolved.target ? resolved.target.digest : 'list',
        kind: resolved.target.kind,
        ...(resolved.mirrorHost === undefined ? {} : { mirrorHost: resolved.mirrorHost }),
      });
      await options.guard.authorizePull(request, reply, { registryId: resolved.registryId, image: resolved.target.image });
    },
    handler: async (request, reply) => {
      const resolved = targets.get(request);
      if (resolved === undefined) throw new Error('pull target not resolved before the handler');
      return pull(options, resolved, request, reply);
    },
  });
}

async function pull(options: V2RoutesOptions, resolved: PullRequestTarget, request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
  const { registryId, target } = resolved;
  const registry = await options.catalog.resolveRegistry(registryId);
  const client = clientOfRequest(request);
  options.policy.admit(registry, target, client);
  if (target.kind === 'tags' || target.kind === 'referrers') return replyListing(options.listings, target, registry, request, reply);
  const withBody = request.method === 'GET';
  const clientGone = new AbortController();
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) clientGone.abort();
  });
  const served =
    target.kind === 'manifest'
      ? await options.manifests.get(registry, target.image, target.reference, { withBody, signal: clientGone.signal })
      : withBody
        ? await options.blobs.get(registry, target.image, target.reference, parseRangeHeader(request.headers.range), clientGone.signal)
        : await options.blobs.head(registry, target.image, target.reference, clientGone.signal);
  await options.policy.vouch(registry, target, served, client);
  reply.header('Docker-Content-Digest', served.digest);
  if (served.redirect) {
    reply.header('X-Vreg-Cache', served.cache);
    return reply.redirect(served.redirect, 307);
  }
  // A blob is bytes, whatever its upstream called it: a `text/html` label would have browsers render it on vreg's origin.
  reply.header('Content-Type', target.kind === 'blob' ? MediaTypes.octetStream : served.contentType);
  reply.header('X-Vreg-Cache', served.cache);
  if (target.kind === 'manifest' && target.referenceKind === 'digest') reply.header('Cache-Control', 'max-age=31536000, immutable');
  if (target.kind === 'blob') reply.header('Accept-Ranges', 'bytes');
  if (served.size !== undefined) reply.header('Content-Length', String(served.size));
  if (served.range) {
    reply.code(206);
    reply.header('Content-Range', `bytes ${served.range.start}-${served.range.end}/${served.range.size ?? '*'}`);
  }
  if (!withBody) return reply.send();
  // Blob bytes go straight to the connection; manifests (a buffer) the usual way.
  const body = served.read ?? served.body;
  if (body === undefined || Buffer.isBuffer(body)) return reply.send(body);
  await sendBlob(request, reply, body);
  return reply;
}
