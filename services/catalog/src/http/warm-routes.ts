import { WarmPlatformsSchema } from '@vreg/contracts';
import { isRepositoryName, isTag, parseDigest } from '@vreg/oci';
import { z } from 'zod';
import type { WarmJobs } from '../domain/warm-jobs.ts';
import { errorResponses, IdParams } from './api-schemas.ts';
import { JobJson, toJobJson } from './job-routes.ts';
import { RouteReaches } from './route-reach.ts';
import type { AdminRoutes } from './zod-type-provider.ts';

const isDigestReference = (value: string): boolean => {
  try {
    parseDigest(value);
    return true;
  } catch {
    return false;
  }
};

export const WarmBody = z.strictObject({
  image: z
    .string()
    .refine(isRepositoryName, 'must be a repository name, e.g. library/alpine')
    .meta({ description: 'Repository name inside the registry, e.g. library/alpine' }),
  tag: z
    .string()
    .refine((t) => isTag(t) || isDigestReference(t), 'must be a tag (or a sha256/sha512 digest)')
    .meta({ description: 'The tag to warm (a digest works too; then no tag entry is recorded)' }),
  platforms: WarmPlatformsSchema.default('all').meta({
    description:
      "'all' (default) or a list like ['linux/amd64', 'linux/arm64/v8']; every listed platform must be in the image's index, or the job fails listing the available ones",
  }),
});

/**
 * `POST /registries/:id/warm`: fetch an image into the registry's cache
 * ahead of its first pull. Answers 202 with a `warm` job; the fetcher does
 * the work and `GET /jobs/:id` shows its progress and end.
 */
export const warmRoutes: AdminRoutes<{ warm: WarmJobs }> = async (app, { warm }) => {
  app.post('/registries/:id/warm', {
    config: {
      reach: RouteReaches.registry,
      summary:
        'Warm up an image: the fetcher stores its index (or manifest), the chosen platform manifests and their blobs as a pull would; 202 with a warm job',
    },
    schema: { params: IdParams, body: WarmBody, response: { 202: JobJson, ...errorResponses(400, 401, 403, 404, 503) } },
    handler: async (request, reply) => {
      const { image, tag, platforms } = request.body;
      const job = await warm.start(request.params.id, {
        image,
        tag,
        platforms: Array.isArray(platforms) ? [...new Set(platforms)] : platforms,
      });
      return reply.status(202).send(toJobJson(job));
    },
  });
};
