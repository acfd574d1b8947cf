export { sleep, waitFor } from './bus-test-kit.ts';
export * from './describe-event-bus.ts';
export * from './nats-test-server.ts';
