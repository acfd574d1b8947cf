import { text } from 'node:stream/consumers';
import { setTimeout as sleep } from 'node:timers/promises';
import { readSecretFromTerminal } from './read-secret.ts';
import { runCli } from './run-cli.ts';

let interruptNote: string | undefined;
process.once('SIGINT', () => {
  // End the progress line, say what goes on without us, exit as shells expect of Ctrl-C.
  process.stderr.write(`\n${interruptNote === undefined ? '' : `${interruptNote}\n`}`);
  process.exit(130);
});

// The `vreg` command (bin/vreg.mjs, or `npx tsx src/cli/main.ts`). Arguments and exit code only.
process.exitCode = await runCli(process.argv.slice(2), process.env, {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  errRaw: (chunk) => process.stderr.write(chunk),
  errIsTty: process.stderr.isTTY === true,
  readStdin: () => text(process.stdin),
  readSecret: process.stdin.isTTY === true ? (prompt) => readSecretFromTerminal(process.stdin, process.stderr, prompt) : undefined,
  setInterruptNote: (note) => {
    interruptNote = note;
  },
  sleep: (ms) => sleep(ms),
  now: () => new Date(),
});
