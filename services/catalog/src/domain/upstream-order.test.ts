import { describe, expect, it } from 'vitest';
import { planUpstreamOrder, sortByPosition } from './upstream-order.ts';

const list = (...ids: string[]) => ids.map((id, position) => ({ id, position }));

describe('planUpstreamOrder', () => {
  it('writes nothing when the list is already in order and nothing moves', () => {
    expect(planUpstreamOrder(list('1', '2', '3'))).toEqual([]);
  });

  it('moves an upstream up and shifts the ones it passes down', () => {
    expect(planUpstreamOrder(list('1', '2', '3', '4'), { id: '4', to: 1 })).toEqual([
      { id: '4', position: 1 },
      { id: '2', position: 2 },
      { id: '3', position: 3 },
    ]);
  });

  it('moves an upstream down and shifts the ones it passes up', () => {
    expect(planUpstreamOrder(list('1', '2', '3'), { id: '1', to: 2 })).toEqual([
      { id: '2', position: 0 },
      { id: '3', position: 1 },
      { id: '1', position: 2 },
    ]);
  });

  it('clamps a target past the end or below zero', () => {
    expect(planUpstreamOrder(list('1', '2'), { id: '1', to: 40 })).toEqual([
      { id: '2', position: 0 },
      { id: '1', position: 1 },
    ]);
    expect(planUpstreamOrder(list('1', '2'), { id: '2', to: -3 })).toEqual([
      { id: '2', position: 0 },
      { id: '1', position: 1 },
    ]);
  });

  it('closes gaps and breaks ties by id, healing a list two racing edits left behind', () => {
    const messy = [
      { id: '7', position: 3 },
      { id: '2', position: 1 },
      { id: '5', position: 1 },
    ];
    // 5 already sits at 1: only the upstreams whose position changes are written.
    expect(planUpstreamOrder(messy)).toEqual([
      { id: '2', position: 0 },
      { id: '7', position: 2 },
    ]);
  });

  it('ignores a move of an id that is not in the list', () => {
    expect(planUpstreamOrder(list('1', '2'), { id: '9', to: 0 })).toEqual([]);
  });
});

describe('sortByPosition', () => {
  it('orders by position, then by numeric id so 10 comes after 9', () => {
    const sorted = sortByPosition([
      { id: '10', position: 0 },
      { id: '9', position: 0 },
      { id: '1', position: 1 },
    ]);
    expect(sorted.map((u) => u.id)).toEqual(['9', '10', '1']);
  });
});
