import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { drained } from './drained.ts';

/** A writable whose writes complete when the test says so. */
function slowWritable(): { stream: Writable; complete: () => void } {
  const pending: Array<() => void> = [];
  const stream = new Writable({
    highWaterMark: 4,
    write: (_chunk, _encoding, callback) => {
      pending.push(() => callback());
    },
  });
  return { stream, complete: () => pending.splice(0).forEach((done) => done()) };
}

describe('drained', () => {
  it('waits for the drain a full stream owes', async () => {
    const { stream, complete } = slowWritable();
    expect(stream.write(Buffer.alloc(10))).toBe(false);
    let done = false;
    const waiting = drained(stream).then(() => (done = true));
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    complete();
    await waiting;
  });

  it('resolves at once for a stream that drained while the caller waited on another', async () => {
    const { stream, complete } = slowWritable();
    expect(stream.write(Buffer.alloc(10))).toBe(false);
    complete();
    await new Promise((r) => setImmediate(r));
    // Its 'drain' is gone: waiting for another one would wait for ever.
    await expect(drained(stream)).resolves.toBeUndefined();
  });

  it('rejects when the stream is destroyed or the signal fires first', async () => {
    const a = slowWritable();
    a.stream.write(Buffer.alloc(10));
    const onDestroy = drained(a.stream);
    a.stream.destroy(new Error('disk full'));
    await expect(onDestroy).rejects.toThrow('disk full');
    const b = slowWritable();
    b.stream.write(Buffer.alloc(10));
    const controller = new AbortController();
    const onAbort = drained(b.stream, controller.signal);
    controller.abort(new Error('fill timed out'));
    await expect(onAbort).rejects.toThrow('fill timed out');
  });
});
