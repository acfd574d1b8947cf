export * from './digest-hasher.ts';
export * from './pull-path.ts';
export * from './reference-grammar.ts';
