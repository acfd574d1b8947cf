/** How a row's ratio compares with its target. */
export type Goal = { kind: 'atMost' | 'atLeast'; value: number } | { kind: 'equals'; value: number } | { kind: 'none' };

export interface ResultRow {
  scenario: string;
  /** vreg's figure, formatted with its unit. */
  vreg: string;
  /** distribution's figure, formatted with its unit ('—' when not measured). */
  distribution: string;
  /** Ratio text (what is divided by what is said in it). */
  ratio: string;
  target: string;
  /** The number compared with the goal (a ratio, a count, ms, MB); undefined when the run failed. */
  measured: number | undefined;
  goal: Goal;
}

export const fmt = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

/** `a / b` as text, or n/a. */
export function ratioText(a: number, b: number, of: string): string {
  // Three decimals, so a ratio just short of its target never prints as meeting it.
  return Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? `${fmt(a / b, 3)} ${of}` : 'n/a';
}

export function met(row: ResultRow): string {
  const { goal, measured } = row;
  if (goal.kind === 'none') return '—';
  if (measured === undefined || !Number.isFinite(measured)) return 'no (failed)';
  const ok = goal.kind === 'atMost' ? measured <= goal.value : goal.kind === 'atLeast' ? measured >= goal.value : measured === goal.value;
  return ok ? 'yes' : 'no';
}

/**
 * The bench's one table: a row per figure, vreg beside distribution, the
 * ratio, the target and whether it is met, plus notes on how it was
 * measured. Rendered as markdown.
 */
export class ResultsTable {
  readonly rows: ResultRow[] = [];
  readonly notes: string[] = [];

  add(row: ResultRow): void {
    this.rows.push(row);
  }

  /** A row for a scenario that threw: the error goes into the notes. */
  failed(scenario: string, target: string, err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    this.rows.push({
      scenario,
      vreg: 'failed',
      distribution: '—',
      ratio: 'n/a',
      target,
      measured: undefined,
      goal: { kind: 'atMost', value: 0 },
    });
    this.notes.push(`${scenario}: failed: ${message.split('\n')[0]!.slice(0, 400)}`);
  }

  note(text: string): void {
    this.notes.push(text);
  }

  markdown(title: string): string {
    const header = ['scenario', 'vreg', 'distribution', 'ratio', 'target', 'met?'];
    const body = this.rows.map((r) => [r.scenario, r.vreg, r.distribution, r.ratio, r.target, met(r)]);
    const line = (cells: string[]): string => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
    return [
      `## ${title}`,
      '',
      line(header),
      line(header.map(() => '---')),
      ...body.map(line),
      '',
      ...this.notes.map((n) => `- ${n}`),
      '',
    ].join('\n');
  }
}
