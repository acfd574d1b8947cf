import type { ErrorCode, Reply } from '@vreg/contracts';
import { AppError, ErrorCodes, ReplyErrorSchema } from '@vreg/contracts';
import type { Logger } from 'pino';
import type { ZodType } from 'zod';
import { z } from 'zod';
import type { RequestHandler } from './event-bus.ts';
import { describeError } from './handle-delivery.ts';

/** Default milliseconds a request waits for its reply. */
export const defaultRequestTimeoutMs = 2000;

const ReplyEnvelopeSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), data: z.unknown() }),
  z.object({ ok: z.literal(false), error: ReplyErrorSchema }),
]);

/**
 * The serving half of request/reply, shared by every adapter: parses and
 * validates the request, runs the handler and wraps its outcome in the reply
 * envelope. Never rejects.
 *
 * - payload not JSON or failing `schema` → `{ ok: false, error: VALIDATION_FAILED }`
 * - handler resolves → `{ ok: true, data }`
 * - handler throws an error carrying a string `code` → `{ ok: false, error: { code, message } }`
 * - anything else → `{ ok: false, error: INTERNAL 'internal error' }`, logged at error
 */
export async function answerRequest<Req, Res>(
  subject: string,
  text: string,
  headers: Readonly<Record<string, string>>,
  schema: ZodType<Req>,
  handler: RequestHandler<Req, Res>,
  logger: Logger,
): Promise<Reply<Res>> {
  let request: Req;
  try {
    request = schema.parse(JSON.parse(text));
  } catch (err) {
    logger.info({ subject, err: describeError(err) }, 'invalid request rejected');
    return { ok: false, error: { code: ErrorCodes.validationFailed, message: describeError(err) } };
  }
  try {
    return { ok: true, data: await handler(request, Object.freeze({ ...headers })) };
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    if (err instanceof Error && typeof code === 'string') {
      logger.debug({ subject, code }, 'request answered with an error');
      return { ok: false, error: { code, message: err.message } };
    }
    logger.error({ subject, err }, 'request handler failed');
    return { ok: false, error: { code: ErrorCodes.internal, message: 'internal error' } };
  }
}

/** Serializes a reply envelope (`data: undefined` becomes an absent field, as JSON does). */
export function encodeReply(reply: Reply<unknown>): string {
  return JSON.stringify(reply);
}

/**
 * The requesting half: unwraps a reply envelope. Resolves `data` parsed by
 * `schema`; throws an `AppError` with the replied code for `{ ok: false }`,
 * and an INTERNAL `AppError` when the reply itself is malformed.
 */
export function unwrapReply<T>(subject: string, text: string, schema: ZodType<T>): T {
  let envelope: z.infer<typeof ReplyEnvelopeSchema>;
  try {
    envelope = ReplyEnvelopeSchema.parse(JSON.parse(text));
  } catch (err) {
    throw new AppError(ErrorCodes.internal, `malformed reply on ${subject}`, { cause: err });
  }
  if (!envelope.ok) {
    // The code is whatever the server replied: services share ErrorCodes, and
    // callers check by code, so an unknown one passes through untouched.
    throw new AppError(envelope.error.code as ErrorCode, envelope.error.message);
  }
  const parsed = schema.safeParse(envelope.data);
  if (!parsed.success) {
    throw new AppError(ErrorCodes.internal, `reply on ${subject} does not match its schema: ${describeError(parsed.error)}`, {
      cause: parsed.error,
    });
  }
  return parsed.data;
}
