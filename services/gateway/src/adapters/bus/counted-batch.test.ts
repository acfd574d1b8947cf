import { createLogger } from '@vreg/logging';
import { afterEach, describe, expect, it } from 'vitest';
import { CountedBatch } from './counted-batch.ts';

interface Item {
  key: string;
  count: number;
}

describe('CountedBatch', () => {
  let batch: CountedBatch<Item> | undefined;
  afterEach(async () => {
    await batch?.stop();
    batch = undefined;
  });

  function start(publish: (item: Item) => Promise<void>, maxKeys = 100): CountedBatch<Item> {
    batch = new CountedBatch<Item>({
      flushIntervalMs: 3_600_000,
      maxKeys,
      publish,
      merge: (into, from) => {
        into.count += from.count;
      },
      what: 'test items',
      logger: createLogger({ level: 'silent', name: 'test' }),
    });
    return batch;
  }

  it('publishes each key once per flush with its count', async () => {
    const published: Item[] = [];
    const b = start(async (item) => {
      published.push({ ...item });
    });
    for (const key of ['a', 'b', 'a', 'a']) b.record(key, { key, count: 1 });
    await b.flush();
    expect(published).toEqual([
      { key: 'a', count: 3 },
      { key: 'b', count: 1 },
    ]);
    await b.flush();
    expect(published).toHaveLength(2);
  });

  it('keeps what failed to publish for the next flush, merged with what came since', async () => {
    const published: Item[] = [];
    let failing = true;
    const b = start(async (item) => {
      if (failing) throw new Error('bus down');
      published.push({ ...item });
    });
    b.record('a', { key: 'a', count: 1 });
    b.record('a', { key: 'a', count: 1 });
    await b.flush();
    expect(published).toEqual([]);
    b.record('a', { key: 'a', count: 1 });
    failing = false;
    await b.flush();
    expect(published).toEqual([{ key: 'a', count: 3 }]);
  });

  it('flushes at once when maxKeys distinct keys are pending, and holds no more than that meanwhile', async () => {
    const published: Item[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    let publishing!: () => void;
    const started = new Promise<void>((r) => {
      publishing = r;
    });
    const b = start(async (item) => {
      publishing();
      await held;
      published.push({ ...item });
    }, 2);
    b.record('a', { key: 'a', count: 1 });
    b.record('b', { key: 'b', count: 1 });
    // Full until the flush the second key started takes the batch: a third key is not kept.
    b.record('c', { key: 'c', count: 1 });
    await started;
    // That flush took the batch: there is room again.
    b.record('d', { key: 'd', count: 1 });
    release();
    await b.flush();
    expect(published.map((i) => i.key)).toEqual(['a', 'b', 'd']);
  });
});
