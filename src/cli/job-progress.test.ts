import { describe, expect, it } from 'vitest';
import { formatBytes, parseByteSize } from './format-bytes.ts';
import type { JobJson } from './job-json.ts';
import { describeProgress, progressBarLine, progressFraction, progressLogLine } from './job-progress.ts';
import { fakeJob } from './testing/fake-admin-api.ts';

const job = (progress: JobJson['progress'], state: JobJson['state'] = 'running') => fakeJob({ state, progress }) as JobJson;

describe('job progress rendering', () => {
  it('measures by bytes when their total is known, else by objects, else not at all', () => {
    expect(progressFraction(job({ objects_done: 1, objects_total: 4, bytes_done: 750, bytes_total: 1000 }))).toBe(0.75);
    expect(progressFraction(job({ objects_done: 1, objects_total: 4, bytes_done: 750, bytes_total: null }))).toBe(0.25);
    expect(progressFraction(job({ objects_done: 1, objects_total: null, bytes_done: 750, bytes_total: null }))).toBeUndefined();
    expect(progressFraction(job({ objects_done: 0, objects_total: 0, bytes_done: 0, bytes_total: 0 }, 'succeeded'))).toBe(1);
  });

  it('draws a bar that fills with the fraction and erases the rest of the line', () => {
    const line = progressBarLine(
      'warm x:1',
      job({ objects_done: 2, objects_total: 4, bytes_done: 2 * 1024 * 1024, bytes_total: 4 * 1024 * 1024 }),
    );
    expect(line).toBe('\rwarm x:1 running   [############------------] 2/4 objects  2.0 MiB/4.0 MiB  50%\x1b[K');
    expect(progressLogLine('gc', job({ objects_done: 5, objects_total: null, bytes_done: 10, bytes_total: null }))).toBe(
      'gc running: 5 objects, 10 B, --%',
    );
    expect(describeProgress(job({ objects_done: 3, objects_total: 3, bytes_done: 5000, bytes_total: 4000 }))).toBe(
      '3/3 objects  4.9 KiB/3.9 KiB  100%',
    );
  });

  it('formats and parses sizes', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(5 * 1024 ** 3)).toBe('5.0 GiB');
    expect(parseByteSize('10GiB', 'q')).toBe(10 * 1024 ** 3);
    expect(parseByteSize('500MB', 'q')).toBe(500_000_000);
    expect(parseByteSize('1048576', 'q')).toBe(1048576);
    expect(parseByteSize('1.5k', 'q')).toBe(1536);
    expect(parseByteSize('none', 'q')).toBeNull();
    expect(() => parseByteSize('-1', 'q')).toThrow('--q must be a size');
    expect(() => parseByteSize('lots', 'q')).toThrow();
  });
});
