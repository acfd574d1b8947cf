export * from './cosign-fixtures.ts';
export * from './keyless-pki.ts';
