import { describe, expect, it } from 'vitest';
import { Readiness, readinessStatusCode } from './readiness.ts';

const ok = (name: string, critical = true) => ({ name, critical, check: async () => undefined });
const failing = (name: string, critical = true) => ({
  name,
  critical,
  check: async () => Promise.reject(Object.assign(new Error('down'), { code: 'CATALOG_UNAVAILABLE' })),
});

describe('Readiness', () => {
  it('is ready when every check answers', async () => {
    const report = await new Readiness([ok('nats'), ok('store')]).report();
    expect(report.status).toBe('ready');
    expect(readinessStatusCode(report)).toBe(200);
  });

  it('is unready (503) when a critical check fails, and names its code', async () => {
    const report = await new Readiness([ok('store'), failing('nats')]).report();
    expect(report).toMatchObject({
      status: 'unready',
      checks: { nats: { ok: false, critical: true, error: 'CATALOG_UNAVAILABLE' }, store: { ok: true } },
    });
    expect(readinessStatusCode(report)).toBe(503);
  });

  it('stays ready but degraded when only a non-critical check fails', async () => {
    const report = await new Readiness([ok('store'), failing('catalog', false)]).report();
    expect(report.status).toBe('degraded');
    expect(readinessStatusCode(report)).toBe(200);
  });

  it('fails a check that does not answer within its deadline', async () => {
    const report = await new Readiness([{ name: 'slow', critical: true, check: () => new Promise(() => undefined) }]).report();
    expect(report.checks.slow).toMatchObject({ ok: false, error: expect.stringMatching(/no answer within/) });
  }, 10_000);

  it('answers stopping at once after markStopping, without running the checks', async () => {
    let ran = false;
    const readiness = new Readiness([{ name: 'x', critical: true, check: async () => void (ran = true) }]);
    readiness.markStopping();
    const report = await readiness.report();
    expect([report.status, readinessStatusCode(report), ran]).toEqual(['stopping', 503, false]);
  });
});
