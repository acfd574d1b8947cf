/** Bytes for people: 1 decimal in the unit that fits. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

export function formatPercent(ratio: number): string {
  return `${(ratio * 100).toFixed(1)} %`;
}

/** `library/alpine:3.20` style name of a manifest path; the path itself for blobs. */
export function imageOfPath(relativePath: string): string {
  const cut = relativePath.search(/\/(manifests|blobs)\/[^/]+$/);
  return cut < 0 ? relativePath : relativePath.slice(0, cut);
}
