import { z } from 'zod';
import { adminPrincipalOf } from './admin-auth.ts';
import { errorResponses } from './api-schemas.ts';
import { RouteReaches } from './route-reach.ts';
import type { AdminRoutes } from './zod-type-provider.ts';

export const SessionJson = z.object({
  access: z.enum(['admin', 'read']).meta({ description: '`admin`: every route; `read`: GET routes only (a read_virtual_registry token)' }),
  token_name: z.string().optional().meta({ description: "The access token's name; absent for the bootstrap admin token" }),
  registry_ids: z.array(z.string()).optional().meta({
    description:
      'The registries a restricted token reaches, whatever its scope: it sees and (with the admin scope) changes only those, never instance-wide routes; absent = every registry',
  }),
  expires_at: z
    .string()
    .optional()
    .meta({ description: "The access token's expiry (ISO-8601): tokens it creates must expire no later; absent = never" }),
});

/** `GET /session`: what the presented token may do, so the console signs in and hides what it may not change. */
export const sessionRoutes: AdminRoutes = async (app, _options) => {
  app.get('/session', {
    config: { reach: RouteReaches.caller, summary: 'What the presented token may do (the console signs in with it)' },
    schema: { response: { 200: SessionJson, ...errorResponses(401, 403) } },
    handler: async (request) => {
      const principal = adminPrincipalOf(request) ?? { access: 'admin' as const };
      return {
        access: principal.access,
        ...(principal.tokenName === undefined ? {} : { token_name: principal.tokenName }),
        ...(principal.registryIds === undefined ? {} : { registry_ids: [...principal.registryIds] }),
        ...(principal.grantor?.expiresAt === undefined ? {} : { expires_at: principal.grantor.expiresAt.toISOString() }),
      };
    },
  });
};
