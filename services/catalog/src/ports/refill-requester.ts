import type { ObjectRef } from '@vreg/contracts';

/** Asks the fetcher to store an object again (GC deleted it while a fill was being recorded). */
export interface RefillRequester {
  /**
   * Publishes a fetch request for `object` of the registry. `dedupKey`
   * makes repeats of the same request (a redelivered event) one request.
   * @throws when the bus cannot take it, so the caller's event is retried.
   */
  request(registryId: string, object: ObjectRef, dedupKey: string): Promise<void>;
}
