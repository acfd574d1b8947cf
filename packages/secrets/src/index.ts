export * from './failure-limiter.ts';
export * from './rate-limit-key.ts';
export * from './secret-box.ts';
export * from './secret-box-from-env.ts';
export * from './token-strength.ts';
