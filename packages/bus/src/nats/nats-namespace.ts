import type { MsgHdrs } from '@nats-io/nats-core';
import { headers as natsHeaders } from '@nats-io/nats-core';

const namespacePattern = /^[A-Za-z0-9_-]*$/;

/**
 * Maps the un-namespaced names of the `EventBus` API to names on the server:
 * subjects get `<namespace>.`, streams, consumers and buckets `<namespace>_`.
 * The empty namespace maps every name to itself. Several deployments (or
 * test runs) can share one NATS server without seeing each other's data.
 */
export class NatsNamespace {
  /** The namespace itself: letters, digits, `_` and `-` only (it is part of stream names). */
  readonly namespace: string;

  constructor(namespace: string) {
    if (!namespacePattern.test(namespace)) {
      throw new TypeError(`invalid NATS namespace ${JSON.stringify(namespace)}: use letters, digits, '_' and '-'`);
    }
    this.namespace = namespace;
  }

  /** Subject on the server for `subject`. */
  subject(subject: string): string {
    return this.namespace === '' ? subject : `${this.namespace}.${subject}`;
  }

  /** The un-namespaced subject of a subject seen on the server. */
  unsubject(subject: string): string {
    const prefix = `${this.namespace}.`;
    return this.namespace !== '' && subject.startsWith(prefix) ? subject.slice(prefix.length) : subject;
  }

  /** Stream, consumer or bucket name on the server for `name`. */
  name(name: string): string {
    return this.namespace === '' ? name : `${this.namespace}_${name}`;
  }
}

/** NATS headers for an application header map (undefined when there is none). */
export function toNatsHeaders(map: Readonly<Record<string, string>> | undefined): MsgHdrs | undefined {
  const entries = Object.entries(map ?? {});
  if (entries.length === 0) return undefined;
  const h = natsHeaders();
  for (const [k, v] of entries) h.set(k, v);
  return h;
}

/**
 * The application's headers of a message: every header but the server's own
 * `Nats-*` ones (message id, TTL, expectations), first value of each.
 */
export function fromNatsHeaders(h: MsgHdrs | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!h) return out;
  for (const k of h.keys()) {
    if (k.toLowerCase().startsWith('nats-')) continue;
    out[k] = h.get(k);
  }
  return out;
}
