import { UpstreamBusyError } from '@vreg/contracts';
import { FillLeaseUnavailableError } from '@vreg/fill-lease';
import { describe, expect, it } from 'vitest';
import { toOciError } from './oci-errors.ts';

describe('toOciError', () => {
  it('answers 503 UNAVAILABLE, not a 500, when a miss cannot take the fill lease because NATS is down', () => {
    const answer = toOciError(
      new FillLeaseUnavailableError('cannot acquire the fill lease on blob/sha256:ab', new Error('CONNECTION_REFUSED')),
    );
    expect(answer.status).toBe(503);
    expect(answer.body.errors).toEqual([{ code: 'UNAVAILABLE', message: 'cannot acquire the fill lease on blob/sha256:ab' }]);
  });

  it('answers 503 UNAVAILABLE with its Retry-After when an upstream is at its fill limit', () => {
    const answer = toOciError(new UpstreamBusyError('upstream hub already runs as many blob downloads as allowed', 5));
    expect(answer).toMatchObject({ status: 503, retryAfterSeconds: 5 });
    expect(answer.body.errors[0]?.code).toBe('UNAVAILABLE');
  });

  it('keeps the internals of unknown errors out of the answer', () => {
    expect(toOciError(new Error('secret detail'))).toEqual({
      status: 500,
      body: { errors: [{ code: 'UNKNOWN', message: 'internal error' }] },
    });
  });
});
