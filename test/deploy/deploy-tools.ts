import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { parseEnv } from '@vreg/contracts';
import type { z } from 'zod';

const run = promisify(execFile);

export const ROOT = resolve(import.meta.dirname, '../..');
export const CHART = resolve(ROOT, 'deploy/k8s/vreg');

/** First install of helm builds it from the Go module proxy: minutes, once per machine. */
export const INSTALL_TIMEOUT_MS = 15 * 60_000;

let tools: Promise<{ helm: string; composeConfig: string }> | undefined;

/**
 * helm and vreg-compose-config, installed into the test cache by
 * deploy/scripts/install-tools.sh if missing (no Docker engine needed).
 */
export function deployTools(): Promise<{ helm: string; composeConfig: string }> {
  tools ??= run('bash', [resolve(ROOT, 'deploy/scripts/install-tools.sh')], { timeout: INSTALL_TIMEOUT_MS, maxBuffer: 64 << 20 }).then(
    ({ stdout }) => {
      const bin = stdout.trim().split('\n').at(-1) ?? '';
      return { helm: resolve(bin, 'helm'), composeConfig: resolve(bin, 'vreg-compose-config') };
    },
  );
  return tools;
}

/** Runs a command and returns its stdout; rejects with its stderr. */
export async function capture(
  file: string,
  args: string[],
  env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' },
): Promise<string> {
  try {
    const { stdout } = await run(file, args, { cwd: ROOT, env, maxBuffer: 64 << 20, timeout: 120_000 });
    return stdout;
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`${file} ${args.join(' ')} failed:\n${e.stderr ?? e.message}`, { cause: err });
  }
}

export type EnvShape = z.ZodRawShape;

/** Variables a shape needs: neither optional nor defaulted. */
export function requiredKeys(shape: EnvShape): string[] {
  return Object.entries(shape)
    .filter(([, schema]) => !(schema as z.ZodType).safeParse(undefined).success)
    .map(([key]) => key);
}

/**
 * What is wrong with `env` for a service whose config schema is `shape`:
 * VREG_* variables the schema does not know (typos, or settings meant for
 * another service), required ones absent, and the schema's own complaints.
 */
export function envProblems(shape: EnvShape, env: Record<string, string | undefined>): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(env)) {
    if (key.startsWith('VREG_') && !(key in shape)) problems.push(`${key}: not a setting of this service`);
  }
  for (const key of requiredKeys(shape)) {
    if (env[key] === undefined || env[key] === '') problems.push(`${key}: required and not set`);
  }
  try {
    parseEnv(shape, env);
  } catch (err) {
    problems.push(...((err as { problems?: string[] }).problems ?? [String(err)]));
  }
  return [...new Set(problems)];
}
