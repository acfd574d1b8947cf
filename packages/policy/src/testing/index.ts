export * from './cosign-fixtures.ts';
