import { setTimeout as sleep } from 'node:timers/promises';
import { text } from 'node:stream/consumers';
import { readSecretFromTerminal } from './read-secret.ts';
import { runCli } from './run-cli.ts';

// The `vreg` command (bin/vreg.mjs, or `npx tsx src/cli/main.ts`). Arguments and exit code only.
process.exitCode = await runCli(process.argv.slice(2), process.env, {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  errRaw: (chunk) => process.stderr.write(chunk),
  errIsTty: process.stderr.isTTY === true,
  readStdin: () => text(process.stdin),
  readSecret: process.stdin.isTTY === true ? (prompt) => readSecretFromTerminal(process.stdin, process.stderr, prompt) : undefined,
  sleep: (ms) => sleep(ms),
  now: () => new Date(),
});
