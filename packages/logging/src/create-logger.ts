import { type Logger, type LoggerOptions, pino } from 'pino';
import { censorSecrets } from './censor-secrets.ts';

export type { Logger } from 'pino';

/**
 * The root logger of a process; components take `logger.child({ component })`.
 * `mixin` adds fields to every line (the telemetry's trace and span ids).
 */
export function createLogger(options: { level: string; name: string; destination?: pino.DestinationStream; mixin?: () => object }): Logger {
  const opts: LoggerOptions = {
    name: options.name,
    level: options.level,
    // Credentials never reach the logs, whatever object a caller passes.
    formatters: { log: censorSecrets, bindings: censorSecrets },
    ...(options.mixin ? { mixin: options.mixin } : {}),
  };
  const root = options.destination ? pino(opts, options.destination) : pino(opts);
  // A child's bindings skip the root's bindings formatter; children inherit `child` from their parent, so this covers every generation.
  const parentChild = Object.getPrototypeOf(root).child as Logger['child'];
  root.child = function censoredChild(this: Logger, bindings, childOptions) {
    return parentChild.call(this, censorSecrets(bindings), childOptions);
  } as Logger['child'];
  return root;
}
