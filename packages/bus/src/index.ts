export { DeadLetterHeaders, deadLetterSubject } from './dead-letter.ts';
export * from './errors.ts';
export * from './event-bus.ts';
export { nakDelayMs } from './handle-delivery.ts';
export * from './memory/memory-event-bus.ts';
export * from './nats/nats-event-bus.ts';
