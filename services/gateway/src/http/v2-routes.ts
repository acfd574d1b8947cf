import { MediaTypes, NameInvalidError, UnsupportedError } from '@vreg/contracts';
import { assertRegistryId, parsePullPath } from '@vreg/oci';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { PullGuard } from '../auth/pull-guard.ts';
import { parseAccept } from '../domain/accept-list.ts';
import { parseRangeHeader } from '../domain/byte-range.ts';
import { clientOfRequest } from '../policy/client-of-request.ts';
import type { PullPolicyGate } from '../policy/pull-policy-gate.ts';
import type { CatalogClient } from '../ports/catalog-client.ts';
import type { BlobService } from '../pull/blob-service.ts';
import type { ListingService } from '../pull/listing-service.ts';
import type { ManifestService } from '../pull/manifest-service.ts';
import { replyListing } from './listing-reply.ts';
import { ociErrorHandler } from './oci-error-handler.ts';

export interface V2RoutesOptions {
  catalog: CatalogClient;
  manifests: ManifestService;
  blobs: BlobService;
  listings: ListingService;
  /** Access control: a preHandler for `/v2/` and one for pulls. */
  guard: PullGuard;
  /** The registry's pull policy: rules before anything is fetched, signatures before a manifest is sent. */
  policy: PullPolicyGate;
}

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
          message: 'repository name not known to registry: pull through /v2/virtual_registries/containers/<id>/<name>',
        },
      ],
    }),
  );
  app.addHook('onRequest', async (_request, reply) => {
    reply.header('Docker-Distribution-API-Version', API_VERSION);
  });

  app.get('/', { exposeHeadRoute: true, preHandler: options.guard.ping }, async () => ({}));

  app.route<{ Params: { registryId: string; '*': string } }>({
    method: ['GET', 'HEAD'],
    url: PULL_URL,
    exposeHeadRoute: false,
    preHandler: options.guard.pull,
    handler: async (request, reply) => pull(options, request, reply),
  });

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
};

async function pull(
  options: V2RoutesOptions,
  request: FastifyRequest<{ Params: { registryId: string; '*': string } }>,
  reply: FastifyReply,
): Promise<unknown> {
  // find-my-way decodes %2F into '/': refuse encoded separators and dots before they can change the path.
  if (/%2f|%5c|%2e|%00/i.test(request.raw.url ?? '')) throw new NameInvalidError('encoded path separators are not allowed');
  const { registryId } = request.params;
  assertRegistryId(registryId);
  const target = parsePullPath(request.params['*']);
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
      ? await options.manifests.get(
          registry,
          target.image,
          target.reference,
          withBody,
          parseAccept(request.headers.accept),
          clientGone.signal,
        )
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
  return reply.send(withBody ? served.body : undefined);
}
