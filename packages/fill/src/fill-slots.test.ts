import { describe, expect, it } from 'vitest';
import { LocalFillSlots } from './fill-slots.ts';

describe('LocalFillSlots', () => {
  it('gives an upstream as many slots as the limit, then none until one is released', () => {
    const slots = new LocalFillSlots(2);
    const a = slots.tryAcquire('10');
    const b = slots.tryAcquire('10');
    expect(a).toBeDefined();
    expect(b).toBeDefined();
    expect(slots.hasRoom('10')).toBe(false);
    expect(slots.tryAcquire('10')).toBeUndefined();
    expect(slots.running('10')).toBe(2);
    a?.release();
    expect(slots.hasRoom('10')).toBe(true);
    expect(slots.running('10')).toBe(1);
    expect(slots.tryAcquire('10')).toBeDefined();
    expect(slots.tryAcquire('10')).toBeUndefined();
  });

  it('counts each upstream on its own', () => {
    const slots = new LocalFillSlots(1);
    expect(slots.tryAcquire('10')).toBeDefined();
    expect(slots.tryAcquire('10')).toBeUndefined();
    expect(slots.hasRoom('20')).toBe(true);
    expect(slots.tryAcquire('20')).toBeDefined();
    expect(slots.running('10')).toBe(1);
    expect(slots.running('20')).toBe(1);
  });

  it('counts a slot released twice only once', () => {
    const slots = new LocalFillSlots(2);
    const a = slots.tryAcquire('10');
    const b = slots.tryAcquire('10');
    a?.release();
    a?.release();
    expect(slots.running('10')).toBe(1);
    expect(slots.tryAcquire('10')).toBeDefined();
    expect(slots.tryAcquire('10')).toBeUndefined();
    b?.release();
    expect(slots.running('10')).toBe(1);
  });

  it('has no limit at 0', () => {
    const slots = new LocalFillSlots(0);
    const taken = Array.from({ length: 1000 }, () => slots.tryAcquire('10'));
    expect(taken.every((s) => s !== undefined)).toBe(true);
    expect(slots.hasRoom('10')).toBe(true);
    expect(slots.running('10')).toBe(1000);
    for (const s of taken) s?.release();
    expect(slots.running('10')).toBe(0);
  });
});
