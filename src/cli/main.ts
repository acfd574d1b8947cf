import { runCli } from './run-cli.ts';

// The `vreg` command (bin/vreg.mjs, or `npx tsx src/cli/main.ts`). Arguments and exit code only.
process.exitCode = await runCli(process.argv.slice(2), process.env, {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  now: () => new Date(),
});
