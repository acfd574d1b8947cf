import { AppError, ErrorCodes } from '@vreg/contracts';

/**
 * The lease store could not answer (NATS unreachable, JetStream timeout, a
 * server without per-message TTL). Code `FILL_LEASE_UNAVAILABLE` (a 503 to
 * a client whose miss could not be coordinated: it retries, as after any
 * outage); `cause` keeps the transport's error. A caller that cannot tell
 * whether it holds a lease must act as if it did not.
 */
export class FillLeaseUnavailableError extends AppError {
  constructor(message: string, cause?: unknown) {
    super(ErrorCodes.fillLeaseUnavailable, message, { cause });
  }
}
