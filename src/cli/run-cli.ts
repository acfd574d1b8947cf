import { AdminApiClient, AdminApiError, type FetchLike } from './admin-api-client.ts';
import { CLEANUP_USAGE, cleanupCommand } from './cleanup-command.ts';
import { configFilePath, readSavedLogin, resolveCliConfig } from './cli-config.ts';
import { type CliIo, CommandFailedError, UsageError } from './cli-io.ts';
import { ENTRIES_USAGE, entriesCommand } from './entries-command.ts';
import { GC_USAGE, gcCommand } from './gc-command.ts';
import { JOBS_USAGE, jobsCommand } from './jobs-command.ts';
import { LOGIN_USAGE, loginCommand, logoutCommand } from './login-command.ts';
import { POLICY_USAGE, policyCommand } from './policy-command.ts';
import { PURGE_USAGE, purgeCommand } from './purge-command.ts';
import { REGISTRIES_USAGE, registriesCommand } from './registries-command.ts';
import { TOKENS_USAGE, tokensCommand } from './tokens-command.ts';
import { UPSTREAMS_USAGE, upstreamsCommand } from './upstreams-command.ts';
import { USAGE_USAGE, usageCommand } from './usage-command.ts';
import { WARM_USAGE, warmCommand } from './warm-command.ts';

type ApiCommand = (args: string[], api: AdminApiClient, io: CliIo) => Promise<void>;

/** Every command that talks to the admin API with the configured login, and its help. */
const API_COMMANDS: Record<string, { usage: string; run: ApiCommand }> = {
  registries: { usage: REGISTRIES_USAGE, run: registriesCommand },
  upstreams: { usage: UPSTREAMS_USAGE, run: upstreamsCommand },
  tokens: { usage: TOKENS_USAGE, run: tokensCommand },
  entries: { usage: ENTRIES_USAGE, run: entriesCommand },
  purge: { usage: PURGE_USAGE, run: purgeCommand },
  cleanup: { usage: CLEANUP_USAGE, run: cleanupCommand },
  usage: { usage: USAGE_USAGE, run: usageCommand },
  warm: { usage: WARM_USAGE, run: warmCommand },
  gc: { usage: GC_USAGE, run: gcCommand },
  jobs: { usage: JOBS_USAGE, run: jobsCommand },
  policy: { usage: POLICY_USAGE, run: policyCommand },
};

export const USAGE = `vreg: manage a vreg container virtual registry through its admin API.

Usage: vreg <command> [arguments] [--json] [--help]

Commands:
  login, logout     save (check first) or forget the server URL and token
  registries        list, show, create, update, delete virtual registries
  upstreams         list, add, update, remove, reorder, move, test upstreams
  tokens            create, list, revoke access tokens
  entries           list or delete cache entries of a registry
  purge             purge a registry's (an image's, a tag's) or an upstream's cache
  cleanup           a registry's cleanup policy: show, set, disable, run, runs, delete
  usage             bytes stored by a registry, by upstream, against its quota
  warm              fetch an image into the cache ahead of pulls, with progress
  gc                delete objects no cache entry references (--dry-run reports)
  jobs              list, show or wait for purge, cleanup, gc and warm jobs
  policy            a registry's pull policy: rules, signatures, keys; refused pulls (denials)

Run vreg <command> --help for its arguments. Every command takes --json for
scripts. Exit codes: 0 done, 1 the server refused, failed or could not be
reached, 2 a mistake in the command line.

Environment (overrides vreg login's saved values):
  VREG_URL    server of the admin API (default http://127.0.0.1:5000; the catalog in distributed mode)
  VREG_TOKEN  the admin token, or an access token with the admin scope`;

function helpOf(group: string): string | undefined {
  if (group === 'login' || group === 'logout') return LOGIN_USAGE;
  return API_COMMANDS[group]?.usage;
}

/** Whether the arguments ask for help (before a `--`, after which everything is an operand). */
function wantsHelp(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

const PARSE_ARGS_ERRORS = new Set([
  'ERR_PARSE_ARGS_UNKNOWN_OPTION',
  'ERR_PARSE_ARGS_INVALID_OPTION_VALUE',
  'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL',
]);

/** Exit codes: 0 done, 1 the server refused, failed or could not be reached, 2 a usage or configuration mistake. */
export async function runCli(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  io: CliIo,
  fetchImpl?: FetchLike,
): Promise<number> {
  const [group, ...rest] = argv;
  if (group === undefined || group === 'help' || group === '--help' || group === '-h') {
    const topic = group === 'help' && rest[0] !== undefined ? helpOf(rest[0]) : undefined;
    if (group === 'help' && rest[0] !== undefined && topic === undefined) {
      io.err(`vreg: no help for ${JSON.stringify(rest[0])}; run vreg --help`);
      return 2;
    }
    io.out(topic ?? USAGE);
    return group === undefined ? 2 : 0;
  }
  const help = helpOf(group);
  if (help !== undefined && wantsHelp(rest)) {
    io.out(help);
    return 0;
  }
  try {
    if (group === 'login') await loginCommand(rest, env, io, fetchImpl);
    else if (group === 'logout') await logoutCommand(rest, env, io);
    else {
      const command = API_COMMANDS[group];
      if (command === undefined) throw new UsageError(`unknown command ${JSON.stringify(group)}; run vreg --help`);
      const connect = async () => {
        // With VREG_TOKEN set the saved login is not needed, so a broken file does not matter.
        const hasEnvToken = env.VREG_TOKEN !== undefined && env.VREG_TOKEN !== '';
        const saved = hasEnvToken
          ? await readSavedLogin(configFilePath(env)).catch(() => undefined)
          : await readSavedLogin(configFilePath(env));
        return resolveCliConfig(env, saved);
      };
      await command.run(rest, new AdminApiClient(connect, fetchImpl), io);
    }
    return 0;
  } catch (err) {
    if (err instanceof UsageError || PARSE_ARGS_ERRORS.has((err as { code?: string }).code ?? '')) {
      io.err(`vreg: ${(err as Error).message}`);
      return 2;
    }
    if (err instanceof AdminApiError) {
      io.err(`vreg: ${err.summary}`);
      return 1;
    }
    if (err instanceof CommandFailedError) {
      io.err(`vreg: ${err.message}`);
      return 1;
    }
    throw err;
  }
}
