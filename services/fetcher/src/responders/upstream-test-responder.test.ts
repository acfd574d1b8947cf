import { randomBytes } from 'node:crypto';
import { MemoryEventBus } from '@vreg/bus';
import { ErrorCodes, Subjects, UpstreamTestReplySchema } from '@vreg/contracts';
import { createLogger } from '@vreg/logging';
import { SecretBox } from '@vreg/secrets';
import { UpstreamUnavailableError } from '@vreg/upstream-client';
import { FakeUpstreamRegistry } from '@vreg/upstream-client/testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { UpstreamTestResponder } from './upstream-test-responder.ts';

const URL_A = 'https://registry.example';
const PASSWORD = 'responder-s3cret-pw';

describe('UpstreamTestResponder', () => {
  const box = new SecretBox(randomBytes(32));
  let bus: MemoryEventBus;
  let upstreams: FakeUpstreamRegistry;
  let lines: string[];

  beforeEach(async () => {
    lines = [];
    const logger = createLogger({ level: 'trace', name: 'test', destination: { write: (line: string) => void lines.push(line) } });
    bus = new MemoryEventBus({ logger });
    upstreams = new FakeUpstreamRegistry();
    await new UpstreamTestResponder({ upstreams, opener: box, logger }).start(bus);
  });
  afterEach(async () => bus.close());

  const test = (request: Record<string, unknown>) =>
    bus.request(Subjects.upstreamTest, { timeoutMs: 5000, ...request }, { schema: UpstreamTestReplySchema });

  it('pings the upstream with the opened password and replies the result', async () => {
    const reply = await test({ url: URL_A, username: 'bot', passwordSealed: box.seal(PASSWORD) });
    expect(reply).toEqual({ success: true, result: 'ok', httpStatus: 200, latencyMs: 1, message: expect.stringContaining('answered 200') });
    expect(upstreams.pingTargets).toEqual([{ url: URL_A, username: 'bot', password: PASSWORD }]);
  });

  it('pings anonymously without credentials', async () => {
    await test({ url: URL_A });
    expect(upstreams.pingTargets).toEqual([{ url: URL_A }]);
  });

  it('replies each failure as a result, success false', async () => {
    upstreams.pings.set(URL_A, { result: 'unauthorized', status: 401, message: 'refused the credentials (401)' });
    expect(await test({ url: URL_A, username: 'bot', passwordSealed: box.seal('wrong') })).toMatchObject({
      success: false,
      result: 'unauthorized',
      httpStatus: 401,
    });
    upstreams.pings.clear();
    upstreams.failWith = new UpstreamUnavailableError('upstream https://registry.example/v2/ unreachable: ECONNREFUSED', {
      cause: new Error('connect'),
    });
    const unreachable = await test({ url: URL_A });
    expect(unreachable).toMatchObject({ success: false, result: 'unreachable' });
    expect(unreachable).not.toHaveProperty('httpStatus');
  });

  it('gives the ping the request deadline as a timeout signal', async () => {
    let seen: AbortSignal | undefined;
    let abortedAtPing: boolean | undefined;
    upstreams.ping = async (_t, opts) => {
      seen = opts?.signal;
      abortedAtPing = seen?.aborted;
      return { result: 'ok', status: 200, latencyMs: 3, message: 'ok' };
    };
    await test({ url: URL_A, timeoutMs: 250 });
    // Read when the ping starts, not after the reply: on a busy machine the round trip alone can outlast 250 ms.
    expect(abortedAtPing).toBe(false);
    await vi.waitFor(() => expect((seen?.reason as Error | undefined)?.name).toBe('TimeoutError'), { timeout: 10_000, interval: 20 });
  });

  it('replies error, without pinging, when the sealed password does not open with its keys', async () => {
    const other = new SecretBox(randomBytes(32));
    const reply = await test({ url: URL_A, username: 'bot', passwordSealed: other.seal(PASSWORD) });
    expect(reply).toMatchObject({ success: false, result: 'error', message: expect.stringContaining('VREG_SECRET_KEY_PREVIOUS') });
    expect(upstreams.pingTargets).toEqual([]);
  });

  it('opens a password sealed with a previous key after rotation', async () => {
    const newKey = randomBytes(32);
    const oldKey = randomBytes(32);
    await bus.close();
    bus = new MemoryEventBus({ logger: createLogger({ level: 'silent', name: 'test' }) });
    await new UpstreamTestResponder({
      upstreams,
      opener: new SecretBox(newKey, [oldKey]),
      logger: createLogger({ level: 'silent', name: 't' }),
    }).start(bus);
    expect(await test({ url: URL_A, username: 'bot', passwordSealed: new SecretBox(oldKey).seal(PASSWORD) })).toMatchObject({
      result: 'ok',
    });
    expect(upstreams.pingTargets.at(-1)?.password).toBe(PASSWORD);
  });

  it('replies error for a url the client cannot use, and VALIDATION_FAILED for a malformed request', async () => {
    upstreams.ping = async () => {
      throw new TypeError('upstream url is not a valid URL');
    };
    expect(await test({ url: 'nope' })).toMatchObject({ success: false, result: 'error' });
    await expect(test({ url: URL_A, password: PASSWORD })).resolves.toBeDefined(); // unknown fields are dropped, never used
    await expect(bus.request(Subjects.upstreamTest, { url: URL_A }, { schema: UpstreamTestReplySchema })).rejects.toMatchObject({
      code: ErrorCodes.validationFailed,
    });
  });

  it('logs the outcome by origin, never the password', async () => {
    await test({ url: URL_A, username: 'bot', passwordSealed: box.seal(PASSWORD) });
    const text = lines.join('');
    expect(text).toContain('upstream tested');
    expect(text).toContain('"upstream":"https://registry.example"');
    expect(text).not.toContain(PASSWORD);
  });
});
