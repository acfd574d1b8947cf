import { AppError, ErrorCodes } from '@vreg/contracts';
import { createLogger } from '@vreg/logging';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PermanentFailure, RetryLater } from './event-bus.ts';
import { handleDelivery, type InboundMessage, resolveConsumeSpec } from './handle-delivery.ts';

class FillingElsewhere extends RetryLater {
  constructor() {
    super(ErrorCodes.fillInProgress, 'another process is filling it');
  }
}

/** Handles one message whose handler throws `thrown`; says what the message got and what was logged at which level. */
async function outcomeOf(thrown: unknown): Promise<{ disposition: string; levels: string[] }> {
  const lines: Array<{ level: number }> = [];
  const logger = createLogger({ level: 'debug', name: 't', destination: { write: (l: string) => void lines.push(JSON.parse(l)) } });
  let disposition = 'none';
  const msg: InboundMessage = {
    subject: 's',
    text: '{}',
    headers: {},
    msgId: undefined,
    streamSequence: 1,
    deliveryCount: 1,
    ack: () => void (disposition = 'ack'),
    nak: () => void (disposition = 'nak'),
    term: () => void (disposition = 'term'),
    working: () => undefined,
  };
  await handleDelivery(msg, {
    spec: resolveConsumeSpec({ stream: 'S', consumer: 'c', subject: 's', schema: z.object({}) }),
    handler: async () => {
      throw thrown;
    },
    deadLetter: async () => undefined,
    logger,
  });
  const names: Record<number, string> = { 20: 'debug', 30: 'info', 40: 'warn', 50: 'error' };
  return { disposition, levels: lines.map((l) => names[l.level] ?? String(l.level)) };
}

describe('handleDelivery decides by code', () => {
  it('dead-letters PERMANENT_FAILURE at once, also from an error that only carries the code', async () => {
    expect(await outcomeOf(new PermanentFailure('no such image'))).toEqual({ disposition: 'term', levels: ['error'] });
    const foreign = Object.assign(new Error('from another copy of the package'), { code: ErrorCodes.permanentFailure });
    expect((await outcomeOf(foreign)).disposition).toBe('term');
  });

  it('retries a "not yet" (FILL_IN_PROGRESS, GC_IN_PROGRESS) quietly, at debug', async () => {
    expect(await outcomeOf(new FillingElsewhere())).toEqual({ disposition: 'nak', levels: ['debug'] });
    expect(await outcomeOf(new AppError(ErrorCodes.gcInProgress, 'sweeping'))).toEqual({ disposition: 'nak', levels: ['debug'] });
  });

  it('retries any other failure with a warning, whatever the error is named', async () => {
    const named = Object.assign(new Error('boom'), { name: 'RetryLater' });
    expect(await outcomeOf(named)).toEqual({ disposition: 'nak', levels: ['warn'] });
  });
});
