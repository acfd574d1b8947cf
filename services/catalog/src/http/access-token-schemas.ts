import { AccessTokenScopeSchema } from '@vreg/contracts';
import { z } from 'zod';
import { ACCESS_TOKEN_NAME_MAX, ACCESS_TOKEN_REGISTRIES_MAX } from '../domain/access-token.ts';

/** Request and response schemas of `/access_tokens`; JSON fields are snake_case like the rest of the API. */

const registryId = z
  .union([z.int().positive().max(Number.MAX_SAFE_INTEGER), z.string().regex(/^[1-9][0-9]{0,14}$/, 'must be a registry id')])
  .transform(String);
const timestamp = z.string().meta({ description: 'ISO-8601 UTC' });

export const AccessTokenCreateBody = z.strictObject({
  name: z.string().trim().min(1).max(ACCESS_TOKEN_NAME_MAX).meta({ description: 'What the token is for' }),
  scopes: z
    .array(AccessTokenScopeSchema)
    .min(1)
    .max(2)
    .meta({ description: '`read_virtual_registry` (pull through /v2) and/or `admin` (this API)' }),
  registry_ids: z
    .array(registryId)
    .min(1)
    .max(ACCESS_TOKEN_REGISTRIES_MAX)
    .optional()
    .meta({ description: 'Restrict pulls to these registries; leave out for every registry' }),
  expires_at: z.iso
    .datetime({ offset: true })
    .optional()
    .meta({ description: 'ISO-8601 time the token stops working; leave out for never' }),
});

export const AccessTokenJson = z.object({
  id: z.string(),
  name: z.string(),
  token_prefix: z
    .string()
    .meta({ description: 'The first characters of the token, to recognise it; the token itself is shown only once, at creation' }),
  scopes: z.array(AccessTokenScopeSchema),
  registry_ids: z.array(z.string()).optional(),
  expires_at: timestamp.optional(),
  last_used_at: timestamp.optional().meta({ description: 'Recorded in batches: may lag by a minute' }),
  revoked: z.boolean(),
  revoked_at: timestamp.optional(),
  active: z.boolean().meta({ description: 'Neither revoked nor expired' }),
  created_at: timestamp,
  updated_at: timestamp,
});

export const AccessTokenCreatedJson = AccessTokenJson.extend({
  token: z.string().meta({ description: 'The secret: shown this once, stored only as a hash. Use it as the password of `docker login`.' }),
});
