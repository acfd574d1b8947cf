import { MemoryEventBus } from '@vreg/bus';
import { type EntriesInvalidated, EntriesInvalidatedSchema, Subjects } from '@vreg/contracts';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { EntryInvalidations } from './entry-invalidations.ts';

const logger = pino({ level: 'silent' });

describe('EntryInvalidations', () => {
  it('gathers notes into one broadcast naming each registry once, resolving upstreams to their registry', async () => {
    const bus = new MemoryEventBus({ logger });
    const heard: EntriesInvalidated[] = [];
    await bus.listen(Subjects.entriesInvalidated, EntriesInvalidatedSchema, (m) => heard.push(m));
    const registryOf: Record<string, string> = { u1: 'r1', u2: 'r2' };
    const invalidations = new EntryInvalidations({
      bus,
      logger,
      flushDelayMs: 10_000,
      upstreams: { get: async (id) => (registryOf[id] ? ({ id, registryId: registryOf[id] } as never) : undefined) },
    });
    invalidations.noteUpstream('u1');
    invalidations.noteUpstream('u1');
    invalidations.noteUpstream('u2');
    invalidations.noteUpstream('gone');
    invalidations.noteRegistry('r3');
    expect(heard).toEqual([]);
    await invalidations.flush();
    expect(heard).toHaveLength(1);
    expect([...(heard[0]?.registryIds ?? [])].sort()).toEqual(['r1', 'r2', 'r3']);
    await invalidations.flush();
    expect(heard).toHaveLength(1);
    await bus.close();
  });

  it('a listener receives broadcasts only while listening, and malformed ones are dropped', async () => {
    const bus = new MemoryEventBus({ logger });
    const heard: EntriesInvalidated[] = [];
    const sub = await bus.listen(Subjects.entriesInvalidated, EntriesInvalidatedSchema, (m) => heard.push(m));
    await bus.broadcast(Subjects.entriesInvalidated, { registryIds: [] });
    await bus.broadcast(Subjects.entriesInvalidated, { registryIds: ['7'] });
    await sub.stop();
    await bus.broadcast(Subjects.entriesInvalidated, { registryIds: ['8'] });
    expect(heard).toEqual([{ registryIds: ['7'] }]);
    await bus.close();
  });
});
