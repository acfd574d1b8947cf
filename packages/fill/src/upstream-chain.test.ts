import type { AppError } from '@vreg/contracts';
import { ManifestUnknownError, type UpstreamView } from '@vreg/contracts';
import { describe, expect, it } from 'vitest';
import { firstUpstreamWith } from './upstream-chain.ts';

const up = (id: string): UpstreamView => ({ id, name: id, url: `http://${id}`, position: Number(id), cacheValidityHours: 24 });
const notFound = (): AppError => new ManifestUnknownError('unknown');
const fail = (code: string, extra: Record<string, unknown> = {}): Error => Object.assign(new Error(code), { code, ...extra });

describe('firstUpstreamWith', () => {
  it('takes the first upstream that has the object, in order', async () => {
    const asked: string[] = [];
    const got = await firstUpstreamWith(
      [up('1'), up('2'), up('3')],
      async (u) => {
        asked.push(u.id);
        return u.id === '1' ? undefined : `from ${u.id}`;
      },
      notFound,
    );
    expect(got.value).toBe('from 2');
    expect(asked).toEqual(['1', '2']);
  });

  it('moves past an upstream that fails', async () => {
    const got = await firstUpstreamWith(
      [up('1'), up('2')],
      async (u) => {
        if (u.id === '1') throw fail('UPSTREAM_UNAVAILABLE');
        return 'ok';
      },
      notFound,
    );
    expect(got.upstream.id).toBe('2');
  });

  it('answers the not-found error when every upstream answered 404', async () => {
    await expect(firstUpstreamWith([up('1'), up('2')], async () => undefined, notFound)).rejects.toMatchObject({
      code: 'MANIFEST_UNKNOWN',
    });
  });

  it('answers TOOMANYREQUESTS with the shortest Retry-After when an upstream rate-limited', async () => {
    const p = firstUpstreamWith(
      [up('1'), up('2')],
      async (u) => {
        throw u.id === '1' ? fail('UPSTREAM_RATE_LIMITED', { retryAfterSeconds: 30 }) : fail('UPSTREAM_UNAVAILABLE');
      },
      notFound,
    );
    await expect(p).rejects.toMatchObject({ code: 'TOOMANYREQUESTS', retryAfterSeconds: 30 });
  });

  it('answers UPSTREAM_UNAVAILABLE when upstreams failed and none rate-limited', async () => {
    await expect(
      firstUpstreamWith(
        [up('1')],
        async () => {
          throw fail('UPSTREAM_UNAVAILABLE');
        },
        notFound,
      ),
    ).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
  });

  it('stops at once when its own deadline passes', async () => {
    let asked = 0;
    const p = firstUpstreamWith(
      [up('1'), up('2')],
      async () => {
        asked += 1;
        throw Object.assign(new Error('timeout'), { name: 'TimeoutError' });
      },
      notFound,
    );
    await expect(p).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(asked).toBe(1);
  });

  it('answers the MANIFEST_INVALID of the first upstream when every one sent something that is not a manifest', async () => {
    const err = await firstUpstreamWith(
      [up('1'), up('2')],
      async (u) => {
        throw fail('MANIFEST_INVALID', { message: `not a manifest from ${u.id}` });
      },
      notFound,
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'MANIFEST_INVALID', message: 'not a manifest from 1' });
  });

  it('answers unavailability when one upstream sent no manifest and another is down', async () => {
    await expect(
      firstUpstreamWith(
        [up('1'), up('2')],
        async (u) => {
          throw fail(u.id === '1' ? 'MANIFEST_INVALID' : 'UPSTREAM_UNAVAILABLE');
        },
        notFound,
      ),
    ).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
  });
});
