import { AppError, ErrorCodes } from '@vreg/contracts';

/**
 * The bus could not take a message or set up a stream or consumer: the
 * server is unreachable, no stream captures the subject, or the publish
 * acknowledgement timed out. Usually transient; `cause` keeps the
 * transport's own error. Code `INTERNAL`: a caller that cannot publish an
 * event it owes must fail its operation (or retry) rather than answer as if
 * the event were recorded.
 */
export class BusUnavailableError extends AppError {
  constructor(message: string, cause?: unknown) {
    super(ErrorCodes.internal, message, { cause });
  }
}
