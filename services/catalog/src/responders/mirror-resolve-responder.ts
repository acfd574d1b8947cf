import type { EventBus, Subscription } from '@vreg/bus';
import { type MirrorResolveReply, type MirrorResolveRequest, MirrorResolveRequestSchema, Subjects } from '@vreg/contracts';
import type { MirrorHostAdmin } from '../domain/mirror-host-admin.ts';

/**
 * Answers `vreg.catalog.mirror.resolve`: the registry mirroring a host, for
 * the gateway's root-path pulls. "None" is an answer (`{}`), not an error:
 * the gateway words the client's error itself, naming the host.
 */
export class MirrorResolveResponder {
  readonly #mirrors: MirrorHostAdmin;

  constructor(deps: { mirrors: MirrorHostAdmin }) {
    this.#mirrors = deps.mirrors;
  }

  /** Starts answering; stop the returned subscription to stop. */
  start(bus: EventBus): Promise<Subscription> {
    return bus.serve(Subjects.mirrorResolve, MirrorResolveRequestSchema, this.handle);
  }

  readonly handle = async (request: MirrorResolveRequest): Promise<MirrorResolveReply> => {
    const registryId = await this.#mirrors.registryFor(request.host);
    return registryId === undefined ? {} : { registryId };
  };
}
