import { type Logger, type LoggerOptions, pino } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths pino blanks in every log line: credentials never reach the logs,
 * whatever object a caller passes.
 */
export const redactPaths: readonly string[] = [
  'password',
  '*.password',
  'passwordSealed',
  '*.passwordSealed',
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'access_token',
  '*.access_token',
  'refresh_token',
  '*.refresh_token',
  'sealedToken',
  '*.sealedToken',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'secretAccessKey',
  '*.secretAccessKey',
];

/**
 * The root logger of a process; components take `logger.child({ component })`.
 * `mixin` adds fields to every line (the telemetry's trace and span ids).
 */
export function createLogger(options: { level: string; name: string; destination?: pino.DestinationStream; mixin?: () => object }): Logger {
  const opts: LoggerOptions = {
    name: options.name,
    level: options.level,
    redact: { paths: [...redactPaths], censor: '[redacted]' },
    ...(options.mixin ? { mixin: options.mixin } : {}),
  };
  return options.destination ? pino(opts, options.destination) : pino(opts);
}
