import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import fc from 'fast-check';

/**
 * Where fuzz tests leave one JSON record per suite, for the reliability
 * table (docs/reliability.md, scripts/reliability-report.mjs), beside the
 * fault tests' `fault-<slug>.json`. The format, agreed here:
 *
 *   .vreg-test/results/fuzz-<slug>.json
 *   {
 *     "suite":   "pull API (fastify inject)",       // what was fuzzed
 *     "checked": "status < 500, OCI error body, …",  // the property, in a sentence
 *     "cases":   600,                                // inputs tried (fast-check runs)
 *     "failures": 0,                                 // inputs that broke the property (0 or 1: fast-check stops at the first and shrinks it)
 *     "seed":    9001,                               // replay with the same seed
 *     "attack":  "hostile upstream content",         // optional: the security table's attack class (security-record.ts) it counts for
 *     "pass":    true,
 *     "counterexample": "…",                         // only when it failed: the shrunk input
 *     "error": "…",                                  // only when it failed: what broke
 *     "durationMs": 4210,
 *     "finishedAt": "2026-11-29T16:30:00.000Z"
 *   }
 */
export const fuzzResultsDir = resolve(import.meta.dirname, '../../.vreg-test/results');

export interface FuzzRecord {
  suite: string;
  checked: string;
  cases: number;
  failures: number;
  seed: number;
  /** The attack class of the security table this suite counts for, when it is one. */
  attack?: string;
  pass: boolean;
  counterexample?: string;
  /** Why the counterexample broke the property. */
  error?: string;
  durationMs: number;
  finishedAt: string;
}

/**
 * Runs a seeded, bounded fast-check property, writes its record and
 * fails the test with fast-check's report (the shrunk counterexample) when
 * the property broke.
 */
export async function runFuzz<T>(
  suite: string,
  checked: string,
  property: fc.IAsyncPropertyWithHooks<T> | fc.IAsyncProperty<T>,
  options: { seed: number; numRuns: number; attack?: string },
): Promise<FuzzRecord> {
  const started = Date.now();
  const details = await fc.check(property, { seed: options.seed, numRuns: options.numRuns, endOnFailure: false });
  const record: FuzzRecord = {
    suite,
    checked,
    cases: details.numRuns,
    failures: details.failed ? 1 : 0,
    seed: options.seed,
    ...(options.attack === undefined ? {} : { attack: options.attack }),
    pass: !details.failed,
    ...(details.failed
      ? {
          counterexample: fc.stringify(details.counterexample).slice(0, 4000),
          error: String((details.errorInstance as Error | undefined)?.message ?? details.errorInstance).slice(0, 2000),
        }
      : {}),
    durationMs: Date.now() - started,
    finishedAt: new Date().toISOString(),
  };
  mkdirSync(fuzzResultsDir, { recursive: true });
  const slug = suite
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
  writeFileSync(resolve(fuzzResultsDir, `fuzz-${slug}.json`), `${JSON.stringify(record, null, 2)}\n`);
  if (details.failed)
    throw new Error(
      `${String((details.errorInstance as Error | undefined)?.message ?? details.errorInstance)}\n${fc.defaultReportMessage(details) ?? `${suite}: property failed`}`,
    );
  return record;
}
