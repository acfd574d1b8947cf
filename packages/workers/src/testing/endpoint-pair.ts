import { EventEmitter } from 'node:events';
import type { IpcEndpoint } from '../ipc-link.ts';

/** Two connected IPC endpoints in one process, messages JSON round-tripped and delivered later, as over a real channel. */
export function endpointPair(): { primary: IpcEndpoint & { disconnect(): void }; worker: IpcEndpoint & { disconnect(): void } } {
  const a = new EventEmitter();
  const b = new EventEmitter();
  let connected = true;
  const side = (self: EventEmitter, other: EventEmitter) =>
    Object.assign(self, {
      send(message: unknown) {
        if (!connected) throw new Error('channel closed');
        const copy: unknown = JSON.parse(JSON.stringify(message));
        setImmediate(() => other.emit('message', copy));
        return true;
      },
      disconnect() {
        connected = false;
      },
    });
  return { primary: side(a, b), worker: side(b, a) };
}
