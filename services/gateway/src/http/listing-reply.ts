import { NameInvalidError, type RegistryView } from '@vreg/contracts';
import { isTag, type ListingTarget } from '@vreg/oci';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ListingService } from '../pull/listing-service.ts';

const MAX_PAGE = 10_000;

/** Answers `tags/list` (with `n`/`last`) and `referrers/<digest>` (with `artifactType`). */
export async function replyListing(
  listings: ListingService,
  target: ListingTarget,
  registry: RegistryView,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<unknown> {
  const query = request.query as Record<string, string | undefined>;
  const listing =
    target.kind === 'tags'
      ? await listings.tags(registry, target.image, tagQuery(query), `/v2/virtual_registries/containers/${registry.id}`)
      : await listings.referrers(registry, target.image, target.digest, artifactTypeOf(query.artifactType));
  reply.header('Content-Type', listing.contentType);
  reply.header('X-Vreg-Cache', listing.cache);
  if (listing.link) reply.header('Link', listing.link);
  if (listing.filtersApplied) reply.header('OCI-Filters-Applied', listing.filtersApplied);
  reply.header('Content-Length', String(listing.body.length));
  return reply.send(request.method === 'HEAD' ? undefined : listing.body);
}

function tagQuery(query: Record<string, string | undefined>): { n?: number; last?: string } {
  const out: { n?: number; last?: string } = {};
  if (query.n !== undefined) {
    if (!/^\d{1,5}$/.test(query.n) || Number(query.n) > MAX_PAGE) throw new NameInvalidError(`n must be an integer from 0 to ${MAX_PAGE}`);
    out.n = Number(query.n);
  }
  if (query.last !== undefined) {
    if (!isTag(query.last)) throw new NameInvalidError('last must be a tag');
    out.last = query.last;
  }
  return out;
}

function artifactTypeOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/.test(value))
    throw new NameInvalidError('artifactType must be a media type');
  return value;
}
