import { parseEnv } from '@vreg/contracts';
import { describe, expect, it } from 'vitest';
import { TelemetryEnv, tracesExported } from './telemetry-env.ts';

const exported = (env: Record<string, string>) => tracesExported(parseEnv(TelemetryEnv, env));

describe('tracesExported', () => {
  it('exports when an endpoint is set, or VREG_OTEL says so, with the yes/no words every setting takes', () => {
    expect(exported({})).toBe(false);
    expect(exported({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(exported({ VREG_OTEL: '1' })).toBe(true);
    expect(exported({ VREG_OTEL: 'true' })).toBe(true);
    expect(exported({ VREG_OTEL: '0', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(false);
    expect(exported({ OTEL_SDK_DISABLED: 'true', VREG_OTEL: '1' })).toBe(false);
  });

  it('refuses a word that is not yes or no', () => {
    expect(() => parseEnv(TelemetryEnv, { VREG_OTEL: 'yes' })).toThrow(/VREG_OTEL/);
  });
});
