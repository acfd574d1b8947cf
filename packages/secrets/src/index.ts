export * from './secret-box.ts';
export * from './secret-box-from-env.ts';
