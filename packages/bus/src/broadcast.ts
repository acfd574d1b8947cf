import type { Logger } from 'pino';
import type { ZodType } from 'zod';

/**
 * Parses one broadcast and hands it to its listener. Broadcasts are hints:
 * a malformed one, or a listener that throws, is logged and dropped, never
 * allowed to break the subscription.
 */
export function deliverBroadcast<T>(text: string, schema: ZodType<T>, handler: (message: T) => void, logger: Logger): void {
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch {
    logger.warn('broadcast that is not JSON dropped');
    return;
  }
  const parsed = schema.safeParse(payload);
  if (!parsed.success) {
    logger.warn({ issues: parsed.error.issues.length }, 'broadcast failing its schema dropped');
    return;
  }
  try {
    handler(parsed.data);
  } catch (err) {
    logger.error({ err }, 'broadcast listener failed');
  }
}
