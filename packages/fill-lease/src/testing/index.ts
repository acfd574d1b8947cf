export * from './describe-fill-lease.ts';
