import { type ZodType, z } from 'zod';
import { ErrorBody, NoContent, PageQuery } from './api-schemas.ts';
import { PaginationHeaders } from './pagination.ts';
import type { RouteReach } from './route-reach.ts';

/** A route as `onRoute` saw it: the document is generated from the very schemas that validate. */
export interface DocumentedRoute {
  method: string;
  /** Full path including the prefix the plugin was registered under, fastify style (`/api/v1/registries/:id`). */
  url: string;
  summary?: string;
  /** True for routes that need no admin token. */
  public: boolean;
  /** How the route relates to registries (`x-vreg-reach`); see route-reach.ts. */
  reach?: RouteReach;
  schema: { params?: ZodType; querystring?: ZodType; body?: ZodType; response?: Record<string, ZodType> };
}

type JsonSchema = Record<string, unknown>;

const statusDescriptions: Record<string, string> = {
  200: 'OK',
  201: 'Created',
  204: 'No content',
  400: 'VALIDATION_FAILED: the request is malformed',
  401: 'UNAUTHORIZED: missing or wrong admin token',
  404: 'NOT_FOUND: no such registry or upstream',
  409: 'CONFLICT: the name is taken',
  503: 'FETCHER_UNAVAILABLE: no fetcher answered (it makes the upstream requests)',
};

function jsonSchema(schema: ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

function parameters(schema: ZodType | undefined, where: 'path' | 'query'): JsonSchema[] {
  if (schema === undefined) return [];
  const object = jsonSchema(schema, 'input');
  const properties = (object.properties ?? {}) as Record<string, JsonSchema>;
  return Object.entries(properties).map(([name, { description, ...property }]) => ({
    name,
    in: where,
    required: where === 'path',
    ...(description === undefined ? {} : { description }),
    schema: property,
  }));
}

const paginationHeaders = Object.fromEntries(Object.values(PaginationHeaders).map((name) => [name, { schema: { type: 'string' } }]));

function operation(route: DocumentedRoute): JsonSchema {
  const responses: Record<string, JsonSchema> = {};
  for (const [status, schema] of Object.entries(route.schema.response ?? {})) {
    const description = statusDescriptions[status] ?? 'Response';
    if (schema === NoContent) {
      responses[status] = { description };
      continue;
    }
    const content = {
      'application/json': { schema: schema === ErrorBody ? { $ref: '#/components/schemas/Error' } : jsonSchema(schema, 'output') },
    };
    const headers = status === '200' && route.schema.querystring === PageQuery ? { headers: paginationHeaders } : {};
    responses[status] = { description, ...headers, content };
  }
  return {
    ...(route.summary === undefined ? {} : { summary: route.summary }),
    ...(route.public ? { security: [] } : {}),
    ...(route.reach === undefined ? {} : { 'x-vreg-reach': route.reach }),
    parameters: [...parameters(route.schema.params, 'path'), ...parameters(route.schema.querystring, 'query')],
    ...(route.schema.body === undefined
      ? {}
      : { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(route.schema.body, 'input') } } } }),
    responses,
  };
}

/**
 * The OpenAPI 3.1 document of the admin API, built from the registered
 * routes' own zod schemas, so it cannot drift from what the API validates.
 */
export function buildOpenApiDocument(routes: readonly DocumentedRoute[]): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) {
    const path = route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: operation(route) };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'vreg catalog admin API',
      version: '1',
      description:
        'Virtual registries, their ordered upstreams and cache entries. JSON fields are snake_case. ' +
        'Lists are paginated with ?page=&per_page= (default 20, at most 100); the body is the array of the page and ' +
        'X-Total, X-Total-Pages, X-Page, X-Per-Page, X-Next-Page, X-Prev-Page headers tell where it sits. ' +
        'Errors are { errors: [{ code, message, detail }] }. ' +
        'An access token restricted to registries (registry_ids) reaches only those, whatever its scope; each operation says how it relates to registries in x-vreg-reach: ' +
        "caller (about the caller alone), global (every registry: refused to restricted tokens), filtered (a list narrowed to the caller's registries), " +
        'registry, upstream, cache_entry, job or access_token (the :id names one; the registries it belongs to decide).',
    },
    components: {
      securitySchemes: { adminToken: { type: 'http', scheme: 'bearer', description: 'The admin token (VREG_ADMIN_TOKEN)' } },
      schemas: { Error: jsonSchema(ErrorBody, 'output') },
    },
    security: [{ adminToken: [] }],
    paths,
  };
}
