import { AppError, ErrorCodes } from '@vreg/contracts';
import { describe, expect, it } from 'vitest';
import { IpcLink, IpcUnavailableError } from './ipc-link.ts';
import { endpointPair } from './testing/endpoint-pair.ts';

describe('IpcLink', () => {
  it('answers a request with the handler result and keeps an error code across the link', async () => {
    const { primary, worker } = endpointPair();
    const p = new IpcLink(primary);
    const w = new IpcLink(worker);
    p.handle('sum', (body) => (body as number[]).reduce((a, b) => a + b, 0));
    p.handle('refuse', () => {
      throw new AppError(ErrorCodes.nameUnknown, 'no such registry', { detail: { registryId: '7' } });
    });
    expect(await w.request('sum', [1, 2, 3], 1000)).toBe(6);
    await expect(w.request('refuse', null, 1000)).rejects.toMatchObject({ code: ErrorCodes.nameUnknown, detail: { registryId: '7' } });
    await expect(w.request('nobody', null, 1000)).rejects.toThrow('no handler for nobody');
  });

  it('fails a request the other side never answers, and every waiting one when the link closes', async () => {
    const { primary, worker } = endpointPair();
    const p = new IpcLink(primary);
    const w = new IpcLink(worker);
    p.handle('hang', () => new Promise(() => undefined));
    await expect(w.request('hang', null, 50)).rejects.toBeInstanceOf(IpcUnavailableError);
    const waiting = w.request('hang', null, 60_000);
    w.close('the primary is gone');
    await expect(waiting).rejects.toThrow('the primary is gone');
    await expect(w.request('hang', null, 1000)).rejects.toBeInstanceOf(IpcUnavailableError);
  });

  it('delivers notices one way', async () => {
    const { primary, worker } = endpointPair();
    const p = new IpcLink(primary);
    const w = new IpcLink(worker);
    const got = new Promise((resolve) => w.handle('note', resolve));
    p.notify('note', { hello: 'worker' });
    expect(await got).toEqual({ hello: 'worker' });
  });

  it('ignores messages that are not its own', async () => {
    const { primary, worker } = endpointPair();
    new IpcLink(primary).handle('x', () => 1);
    const w = new IpcLink(worker);
    primary.send({ cmd: 'NODE_CLUSTER', act: 'online' });
    expect(await w.request('x', null, 1000)).toBe(1);
    expect(AppError).toBeDefined();
  });
});
