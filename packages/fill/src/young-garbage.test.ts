import { describe, expect, it } from 'vitest';
import { type Collect, YoungGarbageBound } from './young-garbage.ts';

describe('YoungGarbageBound', () => {
  it('asks for one scavenge each time the bytes since the last one pass the bound', () => {
    const calls: unknown[] = [];
    const bound = new YoungGarbageBound((options) => calls.push(options), 1000);
    for (let i = 0; i < 25; i++) bound.add(100);
    expect(calls).toEqual([{ type: 'minor' }, { type: 'minor' }]);
    bound.add(600);
    expect(calls).toHaveLength(3);
  });

  it('does nothing without a collector (a process started without --expose-gc)', () => {
    const bound = new YoungGarbageBound(undefined, 1);
    expect(() => bound.add(10_000_000)).not.toThrow();
  });

  it('shares one count among every caller, as fills share one heap', () => {
    let collections = 0;
    const collect: Collect = () => {
      collections += 1;
    };
    const bound = new YoungGarbageBound(collect, 300);
    const fills = [() => bound.add(100), () => bound.add(100), () => bound.add(100)];
    for (const fill of fills) fill();
    expect(collections).toBe(1);
  });
});
