import { AdminApiClient, type FetchLike } from './admin-api-client.ts';

/** What `GET /session` says about the presented token. */
interface SessionJson {
  access: 'admin' | 'read';
  registry_ids?: string[];
}

import { parseCommand } from './cli-args.ts';
import { checkUrl, configFilePath, DEFAULT_URL, readSavedLogin, removeSavedLogin, saveLogin } from './cli-config.ts';
import { type CliIo, CommandFailedError, UsageError } from './cli-io.ts';
import { reportDone } from './print-record.ts';

export const LOGIN_USAGE = `Usage:
  vreg login --url <url> [--token-stdin] [--json]
  vreg logout [--json]

login checks the token against the server's admin API, then saves url and
token to $XDG_CONFIG_HOME/vreg/config.json (else ~/.config/vreg/config.json),
readable only by you (0600). The token comes from stdin with --token-stdin
(cat data/admin-token | vreg login --url ... --token-stdin), else from
VREG_TOKEN, else from a prompt that does not echo it. VREG_URL and VREG_TOKEN, when set, override the saved login.
The token must have the admin scope; one restricted to registries (made with
--registry) administers only those, and login says which.`;

export async function loginCommand(
  args: string[],
  env: Record<string, string | undefined>,
  io: CliIo,
  fetchImpl?: FetchLike,
): Promise<void> {
  const { values } = parseCommand(
    'login',
    args,
    { url: { type: 'string' }, 'token-stdin': { type: 'boolean' } },
    { min: 0, max: 0, what: 'options only' },
  );
  const url = checkUrl(
    values.url ?? (env.VREG_URL !== undefined && env.VREG_URL !== '' ? env.VREG_URL : DEFAULT_URL),
    values.url === undefined ? 'VREG_URL' : '--url',
  );
  let token: string;
  if (values['token-stdin'] === true) token = (await io.readStdin()).trim();
  else if (env.VREG_TOKEN !== undefined && env.VREG_TOKEN !== '') token = env.VREG_TOKEN;
  else if (io.readSecret !== undefined) token = (await io.readSecret(`Token for ${url}: `)).trim();
  else
    throw new UsageError('login needs the token on stdin: cat data/admin-token | vreg login --url URL --token-stdin (or set VREG_TOKEN)');
  if (token === '') throw new UsageError('no token given');
  // The server says what the token may do; vreg's commands need the admin scope.
  const { body: session } = await new AdminApiClient({ url, token }, fetchImpl).request<SessionJson>('GET', '/session');
  if (session.access !== 'admin')
    throw new CommandFailedError(
      'this token is read-only (read_virtual_registry): vreg needs the admin token or a token with the admin scope',
    );
  const path = configFilePath(env);
  await saveLogin(path, { url, token });
  const reach = session.registry_ids === undefined ? '' : ` The token is restricted to registries ${session.registry_ids.join(', ')}.`;
  reportDone(
    io,
    values.json === true,
    { url, config_file: path, ...(session.registry_ids === undefined ? {} : { registry_ids: session.registry_ids }) },
    `Logged in to ${url} (saved to ${path}).${reach}`,
  );
}

export async function logoutCommand(args: string[], env: Record<string, string | undefined>, io: CliIo): Promise<void> {
  const { values } = parseCommand('logout', args, {}, { min: 0, max: 0, what: 'no arguments' });
  const path = configFilePath(env);
  const saved = await readSavedLogin(path).catch(() => undefined);
  const removed = await removeSavedLogin(path);
  reportDone(
    io,
    values.json === true,
    { logged_out: removed, config_file: path },
    removed ? `Logged out${saved === undefined ? '' : ` of ${saved.url}`} (removed ${path}).` : 'Not logged in.',
  );
  if (env.VREG_TOKEN !== undefined && env.VREG_TOKEN !== '') io.err('VREG_TOKEN is still set in this environment; commands keep using it.');
}
