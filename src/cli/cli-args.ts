import { type ParseArgsConfig, parseArgs } from 'node:util';
import { UsageError } from './cli-io.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * One subcommand's arguments: its options plus `--json`, and between `min`
 * and `max` positionals. Every mistake is a UsageError naming the command.
 */
export function parseCommand<O extends Options>(
  command: string,
  args: string[],
  options: O,
  positionals: { min: number; max: number; what: string },
) {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { ...options, json: { type: 'boolean', default: false } }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(
      `${command}: ${(err as Error).message.replace(/\. To specify a positional argument.*$/s, '')} (see vreg ${command} --help)`,
    );
  }
  const count = parsed.positionals.length;
  if (count < positionals.min || count > positionals.max) {
    throw new UsageError(
      `${command} needs ${positionals.what}${
        count > positionals.max
          ? `, not ${parsed.positionals
              .slice(positionals.max)
              .map((p) => JSON.stringify(p))
              .join(' ')}`
          : ''
      } (see vreg ${command} --help)`,
    );
  }
  return { values: parsed.values, positionals: parsed.positionals };
}

/** A positive decimal id as the admin API hands out. @throws UsageError */
export function idArg(value: string | undefined, what: string): string {
  if (value === undefined || !/^[1-9][0-9]{0,17}$/.test(value))
    throw new UsageError(`${what} must be a numeric id, not ${JSON.stringify(value ?? '')}`);
  return value;
}

/** A non-negative integer option. @throws UsageError */
export function intArg(value: string, option: string, range: { min: number; max: number }): number {
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || n < range.min || n > range.max)
    throw new UsageError(`--${option} must be a whole number from ${range.min} to ${range.max}, not ${JSON.stringify(value)}`);
  return n;
}
