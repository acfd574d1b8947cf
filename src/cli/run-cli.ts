import { ErrorCodes, hasCode } from '@vreg/contracts';
import { AdminApiClient, AdminApiError, type FetchLike } from './admin-api-client.ts';
import { loadCliConfig } from './cli-config.ts';
import { UsageError, type CliIo } from './cli-io.ts';
import { REGISTRIES_USAGE, registriesCommand } from './registries-command.ts';
import { TOKENS_USAGE, tokensCommand } from './tokens-command.ts';

export const USAGE = `vreg: manage a vreg container virtual registry through its admin API.

Environment:
  VREG_URL    server of the admin API (default http://127.0.0.1:5000; the catalog in distributed mode)
  VREG_TOKEN  the admin token, or an access token with the admin scope

${TOKENS_USAGE}

${REGISTRIES_USAGE}`;

/** Exit codes: 0 done, 1 the server refused or could not be reached, 2 a usage or configuration mistake. */
export async function runCli(argv: readonly string[], env: Record<string, string | undefined>, io: CliIo, fetchImpl?: FetchLike): Promise<number> {
  const [group, ...rest] = argv;
  if (group === undefined || group === 'help' || group === '--help' || group === '-h') {
    io.out(USAGE);
    return group === undefined ? 2 : 0;
  }
  try {
    const config = loadCliConfig(env);
    const api = new AdminApiClient(config.VREG_URL, config.VREG_TOKEN, fetchImpl);
    if (group === 'tokens') await tokensCommand(rest, api, io);
    else if (group === 'registries') await registriesCommand(rest, api, io);
    else throw new UsageError(`unknown command ${JSON.stringify(group)}\n\n${USAGE}`);
    return 0;
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || (err as { code?: string }).code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' || (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      io.err(`vreg: ${(err as Error).message}`);
      return 2;
    }
    if (hasCode(err, ErrorCodes.configInvalid)) {
      io.err(`vreg: ${(err as Error).message}`);
      return 2;
    }
    if (err instanceof AdminApiError) {
      io.err(`vreg: ${err.code}: ${err.message}`);
      return 1;
    }
    throw err;
  }
}
