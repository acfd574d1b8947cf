/** `key: value` lines aligned on the colon, for one resource (`vreg registries show`). */
export function formatRecord(fields: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(...fields.map(([k]) => k.length)) + 1;
  return fields.map(([k, v]) => `${`${k}:`.padEnd(width)} ${v}`.trimEnd()).join('\n');
}

/** A command that changes something and has nothing to list: JSON on stdout with --json, else a sentence on stderr. */
export function reportDone(
  io: { out(text: string): void; err(text: string): void },
  json: boolean,
  result: Record<string, unknown>,
  message: string,
): void {
  if (json) io.out(JSON.stringify(result));
  else io.err(message);
}
