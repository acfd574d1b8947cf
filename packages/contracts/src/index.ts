export * from './subjects.ts';
export * from './media-types.ts';
export * from './errors.ts';
export * from './events.ts';
export * from './messages.ts';
export * from './access-tokens.ts';
export * from './upstream-test.ts';
export * from './config.ts';
