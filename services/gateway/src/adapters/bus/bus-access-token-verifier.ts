import type { EventBus } from '@vreg/bus';
import { type AccessTokenVerifyReply, AccessTokenVerifyReplySchema, Subjects } from '@vreg/contracts';
import type { AccessTokenVerifier } from '../../ports/access-token-verifier.ts';

/** Seals what the bus carries (`SecretBox` from @vreg/secrets). */
export interface TokenSealer {
  seal(plaintext: string): string;
}

/**
 * Asks the catalog over request/reply. The presented token travels sealed
 * with the shared secrets key, so nothing on the bus (or a NATS tap) ever
 * holds it in clear. Nothing is cached: a revoked token stops working at once.
 */
export class BusAccessTokenVerifier implements AccessTokenVerifier {
  readonly #bus: EventBus;
  readonly #sealer: TokenSealer;
  readonly #timeoutMs: number;

  constructor(bus: EventBus, sealer: TokenSealer, options: { timeoutMs: number }) {
    this.#bus = bus;
    this.#sealer = sealer;
    this.#timeoutMs = options.timeoutMs;
  }

  verify(presented: string): Promise<AccessTokenVerifyReply> {
    return this.#bus.request(
      Subjects.accessTokenVerify,
      { sealedToken: this.#sealer.seal(presented) },
      { schema: AccessTokenVerifyReplySchema, timeoutMs: this.#timeoutMs },
    );
  }
}
