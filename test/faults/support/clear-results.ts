import { readdirSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { resultsDir } from './reliability-record.ts';

/** Drops the fault records of an earlier run, so the report shows only this one. */
export default function clearFaultRecords(): void {
  let names: string[];
  try {
    names = readdirSync(resultsDir);
  } catch {
    return;
  }
  for (const name of names) if (name.startsWith('fault-') && name.endsWith('.json')) rmSync(resolve(resultsDir, name));
}
