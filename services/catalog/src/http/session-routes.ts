import { z } from 'zod';
import { adminPrincipalOf } from './admin-auth.ts';
import { errorResponses } from './api-schemas.ts';
import type { AdminRoutes } from './zod-type-provider.ts';

export const SessionJson = z.object({
  access: z.enum(['admin', 'read']).meta({ description: '`admin`: every route; `read`: GET routes only (a read_virtual_registry token)' }),
  token_name: z.string().optional().meta({ description: "The access token's name; absent for the bootstrap admin token" }),
  registry_ids: z.array(z.string()).optional().meta({ description: 'The registries a restricted read-only token may see' }),
});

/** `GET /session`: what the presented token may do, so the console signs in and hides what it may not change. */
export const sessionRoutes: AdminRoutes = async (app, _options) => {
  app.get('/session', {
    config: { summary: 'What the presented token may do (the console signs in with it)' },
    schema: { response: { 200: SessionJson, ...errorResponses(401, 403) } },
    handler: async (request) => {
      const principal = adminPrincipalOf(request) ?? { access: 'admin' as const };
      return {
        access: principal.access,
        ...(principal.tokenName === undefined ? {} : { token_name: principal.tokenName }),
        ...(principal.access === 'read' && principal.registryIds !== undefined ? { registry_ids: [...principal.registryIds] } : {}),
      };
    },
  });
};
