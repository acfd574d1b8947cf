import { createLogger } from '@vreg/logging';
import { describe, expect, it } from 'vitest';
import { MemoryAccessTokenRepository } from '../adapters/memory/memory-access-token-repository.ts';
import { LastUsedRecorder } from './access-token-usage.ts';

const logger = createLogger({ level: 'silent', name: 'test' });

describe('LastUsedRecorder', () => {
  it('writes the latest use per token once per flush, not once per use', async () => {
    const repository = new MemoryAccessTokenRepository();
    const token = await repository.create({ name: 't', tokenDigest: 'a'.repeat(64), tokenPrefix: 'vregat_aaaa', scopes: ['admin'] });
    let writes = 0;
    const record = repository.recordLastUsed.bind(repository);
    repository.recordLastUsed = async (id, at) => {
      writes += 1;
      return record(id, at);
    };
    const recorder = new LastUsedRecorder(repository, logger, { flushIntervalMs: 60_000 });
    for (let i = 0; i < 100; i += 1) recorder.touch(token.id, new Date(Date.UTC(2030, 0, 1, 0, 0, i)));
    recorder.touch(token.id, new Date(Date.UTC(2029, 0, 1)));
    expect(writes).toBe(0);
    await recorder.flush();
    expect(writes).toBe(1);
    expect((await repository.get(token.id))?.lastUsedAt).toEqual(new Date(Date.UTC(2030, 0, 1, 0, 1, 39)));
    await recorder.flush();
    expect(writes).toBe(1);
  });

  it('keeps the times of a failed write for the next flush, and flushes on stop', async () => {
    const repository = new MemoryAccessTokenRepository();
    const token = await repository.create({ name: 't', tokenDigest: 'b'.repeat(64), tokenPrefix: 'vregat_bbbb', scopes: ['admin'] });
    const record = repository.recordLastUsed.bind(repository);
    let fail = true;
    repository.recordLastUsed = async (id, at) => {
      if (fail) throw new Error('database down');
      return record(id, at);
    };
    const recorder = new LastUsedRecorder(repository, logger, { flushIntervalMs: 60_000 });
    recorder.start();
    const at = new Date('2030-05-05T00:00:00Z');
    recorder.touch(token.id, at);
    await recorder.flush();
    expect((await repository.get(token.id))?.lastUsedAt).toBeUndefined();
    fail = false;
    await recorder.stop();
    expect((await repository.get(token.id))?.lastUsedAt).toEqual(at);
  });
});
