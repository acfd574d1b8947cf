import { UsageError } from './cli-io.ts';

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/** 1536 → `1.5 KiB`: binary units, one decimal past KiB. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

const SIZE_RE = /^([0-9]+(?:\.[0-9]+)?)\s*(b|kb|kib|mb|mib|gb|gib|tb|tib|k|m|g|t)?$/i;
const FACTORS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  k: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tib: 1024 ** 4,
};

/** `10GiB`, `500MB`, `1048576` → bytes; `none` → null (no quota). @throws UsageError */
export function parseByteSize(text: string, option: string): number | null {
  if (text === 'none' || text === 'unlimited') return null;
  const m = SIZE_RE.exec(text.trim());
  const bytes = m === null ? NaN : Math.round(Number(m[1]) * (FACTORS[(m[2] ?? 'b').toLowerCase()] ?? NaN));
  if (!Number.isSafeInteger(bytes) || bytes < 0)
    throw new UsageError(`--${option} must be a size like 500MB, 10GiB or 1073741824 (or none), not ${JSON.stringify(text)}`);
  return bytes;
}
