/** An upstream's id and place, all the ordering rules need. */
export interface Positioned {
  readonly id: string;
  readonly position: number;
}

/** A position to write: the result of `planUpstreamOrder`. */
export interface PositionChange {
  readonly id: string;
  readonly position: number;
}

/** Sorts by position, ties broken by numeric id (older first), so any state has one order. */
export function sortByPosition<T extends Positioned>(upstreams: readonly T[]): T[] {
  return [...upstreams].sort((a, b) => a.position - b.position || Number(a.id) - Number(b.id));
}

/**
 * The position writes that put a registry's upstreams in order 0..n-1,
 * optionally after moving `move.id` to `move.to` (clamped to the list).
 *
 * Adapters call it after each create, move and delete. Because it always
 * renumbers from the current order, a gap or a tie left by two concurrent
 * admin edits on a store without transactions heals on the next edit.
 * Only upstreams whose position changes are returned.
 */
export function planUpstreamOrder(current: readonly Positioned[], move?: { id: string; to: number }): PositionChange[] {
  const ordered = sortByPosition(current).map((u) => u.id);
  if (move !== undefined) {
    const from = ordered.indexOf(move.id);
    if (from >= 0) {
      ordered.splice(from, 1);
      const to = Math.min(Math.max(0, Math.trunc(move.to)), ordered.length);
      ordered.splice(to, 0, move.id);
    }
  }
  const before = new Map(current.map((u) => [u.id, u.position]));
  const changes: PositionChange[] = [];
  ordered.forEach((id, position) => {
    if (before.get(id) !== position) changes.push({ id, position });
  });
  return changes;
}
