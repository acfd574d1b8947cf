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

  it('keeps the internals of unknown errors out of the answer', () => {
    expect(toOciError(new Error('secret detail'))).toEqual({
      status: 500,
      body: { errors: [{ code: 'UNKNOWN', message: 'internal error' }] },
    });
  });
});
