import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { AuditResult } from './cache-audit.ts';

/** Where fault tests leave one JSON record per scenario for scripts/reliability-report.mjs. */
export const resultsDir = resolve(import.meta.dirname, '../../../.vreg-test/results');

/** One scenario's outcome, as docs/reliability.md shows it. */
export interface ReliabilityRecord {
  scenario: string;
  /** What was checked, in a sentence. */
  checked: string;
  /** Processes killed with SIGKILL. */
  kills: number;
  /** Other faults injected: server outages, misbehaving upstream answers. */
  faults: number;
  entriesVerified: number;
  corrupt: number;
  lost: number;
  pass: boolean;
  /** Why it failed, when it did. */
  error?: string;
  durationMs: number;
  finishedAt: string;
}

export interface ScenarioCounts {
  kills: number;
  faults: number;
  audit: AuditResult;
}

/**
 * Runs one fault scenario and writes its record to `.vreg-test/results/fault-<slug>.json`,
 * pass or fail. `run` returns the counts; the scenario passes only when it
 * returned (its own assertions held) and the audit found nothing corrupt or lost.
 */
export async function recordScenario(
  scenario: string,
  checked: string,
  run: (counts: ScenarioCounts) => Promise<void>,
): Promise<ScenarioCounts> {
  const started = Date.now();
  const counts: ScenarioCounts = { kills: 0, faults: 0, audit: { entriesVerified: 0, corrupt: [], lost: [] } };
  let error: string | undefined;
  try {
    await run(counts);
    const { corrupt, lost } = counts.audit;
    if (corrupt.length || lost.length) error = `corrupt: ${corrupt.join('; ') || 'none'}; lost: ${lost.join(', ') || 'none'}`;
  } catch (err) {
    error = (err as Error).message.slice(0, 2000);
  }
  const record: ReliabilityRecord = {
    scenario,
    checked,
    kills: counts.kills,
    faults: counts.faults,
    entriesVerified: counts.audit.entriesVerified,
    corrupt: counts.audit.corrupt.length,
    lost: counts.audit.lost.length,
    pass: error === undefined,
    ...(error === undefined ? {} : { error }),
    durationMs: Date.now() - started,
    finishedAt: new Date().toISOString(),
  };
  mkdirSync(resultsDir, { recursive: true });
  const slug = scenario
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
  writeFileSync(resolve(resultsDir, `fault-${slug}.json`), `${JSON.stringify(record, null, 2)}\n`);
  if (error !== undefined) throw new Error(`${scenario}: ${error}`);
  return counts;
}
