export * from './reference-grammar.ts';
export * from './pull-path.ts';
export * from './digest-hasher.ts';
