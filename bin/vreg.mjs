#!/usr/bin/env node
// The `vreg` command: the TypeScript CLI in src/cli, run through tsx's loader
// in this process (no build step; tsx is a runtime dependency of vreg).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
