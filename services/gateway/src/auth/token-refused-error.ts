import { UnauthorizedError } from '@vreg/contracts';

/**
 * A registry token that is not valid. Every refusal reads the same to the
 * client ("the registry token is not valid", no detail): telling a forger
 * which check failed (the signature, the header's JSON, the audience) only
 * helps the forger. `reason` is for the gateway's own log.
 */
export class RegistryTokenRefusedError extends UnauthorizedError {
  /** Which check failed (`bad signature`, `expired`, `audience`, ...); logged, never sent. */
  readonly reason: string;

  constructor(reason: string) {
    super('the registry token is not valid');
    this.reason = reason;
  }
}
