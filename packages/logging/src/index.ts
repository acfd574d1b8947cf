export { censorSecrets, REDACTED, SECRET_KEYS } from './censor-secrets.ts';
export * from './create-logger.ts';
