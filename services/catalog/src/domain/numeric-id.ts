/**
 * Registries and upstreams have small positive integer ids, stored as
 * numbers (so lists sort 1, 2, 10) and exposed as strings. Returns the
 * number, or undefined when `id` is not such an id (then nothing has it).
 */
export function parseNumericId(id: string): number | undefined {
  if (!/^[1-9][0-9]{0,14}$/.test(id)) return undefined;
  return Number(id);
}
