import { z } from 'zod';
import type { GcRunner } from '../gc/gc-runner.ts';
import { errorResponses } from './api-schemas.ts';
import { JobJson, toJobJson } from './job-routes.ts';
import { RouteReaches } from './route-reach.ts';
import type { AdminRoutes } from './zod-type-provider.ts';

export const GcBody = z.strictObject({
  dry_run: z
    .boolean()
    .default(false)
    .meta({ description: 'Report what would be freed (objects_would_delete, bytes_would_free, digests) without deleting anything' }),
});

/**
 * `POST /gc`: garbage-collect stored objects now. Answers 202 with a `gc`
 * job: it destroys the entries marked `pending_destruction`, then deletes the
 * objects no live entry references once their grace period (VREG_GC_GRACE_MS)
 * is over. `GET /jobs/:id` shows the result.
 */
export const gcRoutes: AdminRoutes<{ gc: GcRunner }> = async (app, { gc }) => {
  app.post('/gc', {
    config: {
      reach: RouteReaches.global,
      summary:
        'Garbage-collect stored objects no live cache entry references (after VREG_GC_GRACE_MS); 202 with a gc job, dry_run reports without deleting',
    },
    schema: { body: GcBody, response: { 202: JobJson, ...errorResponses(400, 401) } },
    handler: async (request, reply) => reply.status(202).send(toJobJson(await gc.requestGc(request.body.dry_run))),
  });
};
