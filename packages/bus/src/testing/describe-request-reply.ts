import { AppError, CatalogUnavailableError, ErrorCodes, NotFoundError } from '@vreg/contracts';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { EventBus } from '../event-bus.ts';
import { sleep } from './bus-test-kit.ts';

const EchoRequestSchema = z.object({ word: z.string().min(1) });
const EchoReplySchema = z.object({ echoed: z.string(), traceparent: z.string().optional() });

/** The request/reply half of the `EventBus` contract (called inside `describeEventBus`). */
export function describeRequestReply(getBus: () => EventBus): void {
  describe('request/reply', () => {
    it('round-trips a request to a responder and unwraps its data', async () => {
      const bus = getBus();
      await bus.serve('vreg.rpc.echo', EchoRequestSchema, async (req, headers) => ({
        echoed: req.word.toUpperCase(),
        ...(headers.traceparent === undefined ? {} : { traceparent: headers.traceparent }),
      }));
      const reply = await bus.request('vreg.rpc.echo', { word: 'alpine' }, { schema: EchoReplySchema, headers: { traceparent: 't-9' } });
      expect(reply).toEqual({ echoed: 'ALPINE', traceparent: 't-9' });
    });

    it('throws an error reply as an AppError with the replied code and message', async () => {
      const bus = getBus();
      await bus.serve('vreg.rpc.missing', EchoRequestSchema, async (req) => {
        throw new NotFoundError(`no registry ${req.word}`);
      });
      const err = await bus.request('vreg.rpc.missing', { word: 'r1' }, { schema: EchoReplySchema }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AppError);
      expect(err).toMatchObject({ code: ErrorCodes.notFound, message: 'no registry r1' });
    });

    it('answers INTERNAL without details when the handler throws an unexpected error', async () => {
      const bus = getBus();
      await bus.serve('vreg.rpc.crash', EchoRequestSchema, async () => {
        throw new Error('mongo password is hunter2');
      });
      const err = await bus.request('vreg.rpc.crash', { word: 'x' }, { schema: EchoReplySchema }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: ErrorCodes.internal, message: 'internal error' });
    });

    it('answers VALIDATION_FAILED to a request failing the schema, without calling the handler', async () => {
      const bus = getBus();
      let calls = 0;
      await bus.serve('vreg.rpc.strict', EchoRequestSchema, async (req) => {
        calls += 1;
        return { echoed: req.word };
      });
      const err = await bus.request('vreg.rpc.strict', { word: '' }, { schema: EchoReplySchema }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: ErrorCodes.validationFailed });
      expect(calls).toBe(0);
    });

    it('fails fast with CATALOG_UNAVAILABLE when nobody serves the subject', async () => {
      const bus = getBus();
      const started = Date.now();
      const err = await bus
        .request('vreg.rpc.nobody', { word: 'x' }, { schema: EchoReplySchema, timeoutMs: 5000 })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CatalogUnavailableError);
      expect((err as AppError).code).toBe(ErrorCodes.catalogUnavailable);
      expect(Date.now() - started).toBeLessThan(2500);
    });

    it('fails with CATALOG_UNAVAILABLE when the responder does not answer in time', async () => {
      const bus = getBus();
      await bus.serve('vreg.rpc.slow', EchoRequestSchema, async (req) => {
        await sleep(600);
        return { echoed: req.word };
      });
      const err = await bus.request('vreg.rpc.slow', { word: 'x' }, { schema: EchoReplySchema, timeoutMs: 200 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CatalogUnavailableError);
    });

    it('no longer answers once the responder stopped', async () => {
      const bus = getBus();
      const sub = await bus.serve('vreg.rpc.gone', EchoRequestSchema, async (req) => ({ echoed: req.word }));
      await expect(bus.request('vreg.rpc.gone', { word: 'a' }, { schema: EchoReplySchema })).resolves.toEqual({ echoed: 'a' });
      await sub.stop();
      await expect(bus.request('vreg.rpc.gone', { word: 'a' }, { schema: EchoReplySchema, timeoutMs: 500 })).rejects.toBeInstanceOf(
        CatalogUnavailableError,
      );
    });
  });
}
