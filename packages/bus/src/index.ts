export * from './event-bus.ts';
export * from './errors.ts';
export { DeadLetterHeaders, deadLetterSubject } from './dead-letter.ts';
export { nakDelayMs } from './handle-delivery.ts';
export * from './nats/nats-event-bus.ts';
export * from './memory/memory-event-bus.ts';
