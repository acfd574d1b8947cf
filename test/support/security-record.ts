import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { onTestFinished } from 'vitest';
import type { AttackClass } from './attack-classes.ts';
import { fuzzResultsDir } from './fuzz-record.ts';

export { type AttackClass, AttackClasses } from './attack-classes.ts';

/**
 * One record per test that attacks vreg, beside the fuzz records:
 *
 *   .vreg-test/results/security-<attack>-<test>.json
 *   {
 *     "attack":  "admin scope escalation",          // one of AttackClasses
 *     "test":    "a restricted admin token ...",     // what the test tried, in a sentence
 *     "source":  "test/admin-reach.int.test.ts",
 *     "cases":   57,                                 // attempts the test counted (tally.tried)
 *     "pass":    true,                               // every attempt failed as it must: the test passed
 *     "error":   "…",                                // only when it did not
 *     "durationMs": 812,
 *     "finishedAt": "2026-11-29T16:30:00.000Z"
 *   }
 */
export interface SecurityRecord {
  attack: AttackClass;
  test: string;
  source: string;
  cases: number;
  pass: boolean;
  error?: string;
  durationMs: number;
  finishedAt: string;
}

/** Counts the attempts of one test. */
export interface AttackTally {
  /** Counts `n` more attempts (each a request or input that had to be refused or handled safely). */
  tried(n?: number): void;
  readonly cases: number;
}

const slug = (text: string): string =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 80);

/**
 * Call inside a test: counts its attacks and, when the test finishes,
 * writes its record (pass or fail, from the test's own result), so the
 * table in docs/reliability.md reports what was tried, never a typed number.
 */
export function recordAttacks(attack: AttackClass, test: string, source: string): AttackTally {
  const started = Date.now();
  let cases = 0;
  onTestFinished((context) => {
    const result = context.task.result;
    const pass = result?.state === 'pass';
    const error = result?.errors?.[0]?.message;
    const record: SecurityRecord = {
      attack,
      test,
      source,
      cases,
      pass,
      ...(pass || error === undefined ? {} : { error: error.slice(0, 1000) }),
      durationMs: Date.now() - started,
      finishedAt: new Date().toISOString(),
    };
    mkdirSync(fuzzResultsDir, { recursive: true });
    writeFileSync(resolve(fuzzResultsDir, `security-${slug(attack)}-${slug(test)}.json`), `${JSON.stringify(record, null, 2)}\n`);
  });
  return {
    tried(n = 1) {
      cases += n;
    },
    get cases() {
      return cases;
    },
  };
}
