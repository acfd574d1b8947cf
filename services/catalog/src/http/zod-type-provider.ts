import { ValidationError } from '@vreg/contracts';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifyPluginAsync,
  FastifySchemaCompiler,
  FastifySerializerCompiler,
  FastifyTypeProvider,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { ZodType, z } from 'zod';

/**
 * Route schemas of the admin API are zod schemas: one source for
 * validation, handler types and the OpenAPI document (`z.toJSONSchema`).
 * Strict objects reject unknown fields, which fastify's default Ajv
 * (`removeAdditional: true`) would silently drop instead.
 */
export interface ZodTypeProvider extends FastifyTypeProvider {
  readonly validator: this['schema'] extends ZodType ? z.output<this['schema']> : unknown;
  readonly serializer: this['schema'] extends ZodType ? z.input<this['schema']> : unknown;
}

/** The admin API's fastify instance: zod schemas, typed handlers. */
export type AdminApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

/** One route group of the admin API: an encapsulated fastify plugin taking the use cases it serves as options. */
export type AdminRoutes<Options extends Record<string, unknown> = Record<never, never>> = FastifyPluginAsync<
  Options,
  RawServerDefault,
  ZodTypeProvider
>;

function describeIssues(part: string, issues: readonly z.core.$ZodIssue[]): string {
  const first = issues[0];
  if (first === undefined) return `invalid ${part}`;
  const where = first.path.length > 0 ? first.path.join('.') : part;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  return `invalid ${part}: ${where}: ${first.message}${more}`;
}

/**
 * Validates a request part with its zod schema. Failures become
 * `ValidationError` (VALIDATION_FAILED) whose detail lists every issue; the
 * parsed value (defaults applied, strings coerced) replaces the raw one.
 */
export const zodValidatorCompiler: FastifySchemaCompiler<ZodType> = ({ schema, httpPart }) => {
  const part = httpPart ?? 'request';
  return (data: unknown) => {
    const result = schema.safeParse(data);
    if (result.success) return { value: result.data };
    const issues = result.error.issues.map((i) => ({ in: part, path: i.path.join('.'), message: i.message }));
    return { error: new ValidationError(describeIssues(part, result.error.issues), { issues }) };
  };
};

/**
 * Serializes a response through its zod schema: fields the schema does not
 * list (a sealed password, `_id`) can never reach a client. A mismatch is a
 * server bug and fails loudly.
 */
export const zodSerializerCompiler: FastifySerializerCompiler<ZodType> = ({ schema }) => {
  return (data: unknown) => JSON.stringify(schema.parse(data));
};
