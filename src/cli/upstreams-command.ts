import type { UpstreamJson, UpstreamTestJson } from '@vreg/contracts/admin-api-json';
import type { AdminApiClient } from './admin-api-client.ts';
import { idArg, intArg, parseCommand } from './cli-args.ts';
import { checkUrl } from './cli-config.ts';
import { type CliIo, CommandFailedError, UsageError } from './cli-io.ts';
import { formatTable } from './format-table.ts';
import { reportDone } from './print-record.ts';

export const UPSTREAMS_USAGE = `Usage:
  vreg upstreams list <registry> [--json]
  vreg upstreams add <registry> --name <name> --url <url> [--username <user> --password-stdin]
                     [--cache-validity-hours <n>] [--[no-]library-prefix] [--position <n>] [--json]
  vreg upstreams update <upstream> [--name <name>] [--url <url>] [--username <user>] [--no-username]
                     [--password-stdin] [--no-password] [--cache-validity-hours <n>] [--[no-]library-prefix] [--json]
  vreg upstreams remove <upstream> [--json]
  vreg upstreams reorder <registry> <upstream>...      the given upstreams first, in that order
  vreg upstreams move <upstream> --position <n>        0 is first
  vreg upstreams test <upstream> [--json]              test connection with the stored credentials
  vreg upstreams test --url <url> [--username <user> --password-stdin] [--json]

Pulls try a registry's upstreams in order. A password is read from stdin only
(never on the command line, where ps shows it). test exits 1 unless the
upstream answered ok.`;

const EDIT_OPTIONS = {
  name: { type: 'string' },
  url: { type: 'string' },
  username: { type: 'string' },
  'password-stdin': { type: 'boolean' },
  /** Only to refuse it with a reason: a password on the command line shows in ps. */
  password: { type: 'string' },
  'cache-validity-hours': { type: 'string' },
  'library-prefix': { type: 'boolean' },
  'no-library-prefix': { type: 'boolean' },
  position: { type: 'string' },
} as const;

/** --library-prefix / --no-library-prefix → true / false / not given. */
function libraryPrefixOf(values: { 'library-prefix'?: boolean | undefined; 'no-library-prefix'?: boolean | undefined }): {
  library_prefix?: boolean;
} {
  if (values['library-prefix'] === true && values['no-library-prefix'] === true)
    throw new UsageError('give --library-prefix or --no-library-prefix, not both');
  if (values['library-prefix'] === true) return { library_prefix: true };
  return values['no-library-prefix'] === true ? { library_prefix: false } : {};
}

async function passwordFromStdin(io: CliIo): Promise<string> {
  const password = (await io.readStdin()).replace(/\r?\n$/, '');
  if (password === '') throw new UsageError('--password-stdin: stdin was empty');
  return password;
}

/** The POS/ID/NAME/URL table of a registry's upstreams, in pull order. */
export function upstreamsTable(upstreams: UpstreamJson[]): string {
  return formatTable(
    ['POS', 'ID', 'NAME', 'URL', 'USERNAME', 'PASSWORD', 'VALIDITY'],
    upstreams.map((u) => [
      String(u.position),
      u.id,
      u.name,
      u.url,
      u.username ?? '-',
      u.has_password ? 'set' : '-',
      `${u.cache_validity_hours}h`,
    ]),
  );
}

function printTest(answer: UpstreamTestJson, target: string, io: CliIo, json: boolean): void {
  if (json) io.out(JSON.stringify(answer, null, 2));
  else
    io.out(
      `${answer.result}${answer.http_status === undefined ? '' : ` (HTTP ${answer.http_status})`} in ${answer.latency_ms} ms: ${answer.message}`,
    );
  if (!answer.success) throw new CommandFailedError(`${target} did not pass the test: ${answer.result}`);
}

export async function upstreamsCommand(args: string[], api: AdminApiClient, io: CliIo): Promise<void> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'list': {
      const { values, positionals } = parseCommand('upstreams list', rest, {}, { min: 1, max: 1, what: 'a registry id' });
      const registry = idArg(positionals[0], 'the registry id');
      const { body } = await api.request<UpstreamJson[]>('GET', `/registries/${registry}/upstreams`);
      if (values.json) return io.out(JSON.stringify(body, null, 2));
      io.out(upstreamsTable(body));
      return;
    }
    case 'add': {
      const { values, positionals } = parseCommand('upstreams add', rest, EDIT_OPTIONS, { min: 1, max: 1, what: 'a registry id' });
      const registry = idArg(positionals[0], 'the registry id');
      if (values.name === undefined || values.url === undefined) throw new UsageError('upstreams add needs --name and --url');
      if (values.password !== undefined)
        throw new UsageError('give the password with --password-stdin, never on the command line (ps shows it)');
      const { body } = await api.request<UpstreamJson>('POST', `/registries/${registry}/upstreams`, {
        name: values.name,
        url: checkUrl(values.url, '--url'),
        ...(values.username === undefined ? {} : { username: values.username }),
        ...(values['password-stdin'] === true ? { password: await passwordFromStdin(io) } : {}),
        ...(values['cache-validity-hours'] === undefined
          ? {}
          : { cache_validity_hours: intArg(values['cache-validity-hours'], 'cache-validity-hours', { min: 0, max: 1_000_000 }) }),
        ...libraryPrefixOf(values),
        ...(values.position === undefined ? {} : { position: intArg(values.position, 'position', { min: 0, max: 1_000_000 }) }),
      });
      if (values.json) io.out(JSON.stringify(body, null, 2));
      else io.out(`Added upstream ${body.id} "${body.name}" (${body.url}) to registry ${body.registry_id} at position ${body.position}.`);
      return;
    }
    case 'update': {
      const { values, positionals } = parseCommand(
        'upstreams update',
        rest,
        { ...EDIT_OPTIONS, 'no-username': { type: 'boolean' }, 'no-password': { type: 'boolean' } },
        { min: 1, max: 1, what: 'an upstream id' },
      );
      const id = idArg(positionals[0], 'the upstream id');
      if (values.password !== undefined)
        throw new UsageError('give the password with --password-stdin, never on the command line (ps shows it)');
      if (values['no-password'] === true && values['password-stdin'] === true)
        throw new UsageError('give --password-stdin or --no-password, not both');
      if (values['no-username'] === true && values.username !== undefined)
        throw new UsageError('give --username or --no-username, not both');
      const patch = {
        ...(values.name === undefined ? {} : { name: values.name }),
        ...(values.url === undefined ? {} : { url: checkUrl(values.url, '--url') }),
        ...(values.username === undefined ? {} : { username: values.username }),
        ...(values['no-username'] === true ? { username: null } : {}),
        ...(values['no-password'] === true ? { password: null } : {}),
        ...(values['password-stdin'] === true ? { password: await passwordFromStdin(io) } : {}),
        ...(values['cache-validity-hours'] === undefined
          ? {}
          : { cache_validity_hours: intArg(values['cache-validity-hours'], 'cache-validity-hours', { min: 0, max: 1_000_000 }) }),
        ...libraryPrefixOf(values),
        ...(values.position === undefined ? {} : { position: intArg(values.position, 'position', { min: 0, max: 1_000_000 }) }),
      };
      if (Object.keys(patch).length === 0)
        throw new UsageError('upstreams update needs something to change (see vreg upstreams update --help)');
      const { body } = await api.request<UpstreamJson>('PATCH', `/upstreams/${id}`, patch);
      if (values.json) io.out(JSON.stringify(body, null, 2));
      else io.out(`Updated upstream ${body.id} "${body.name}" (${body.url}), position ${body.position}.`);
      return;
    }
    case 'remove': {
      const { values, positionals } = parseCommand('upstreams remove', rest, {}, { min: 1, max: 1, what: 'an upstream id' });
      const id = idArg(positionals[0], 'the upstream id');
      await api.request('DELETE', `/upstreams/${id}`);
      reportDone(io, values.json === true, { id, deleted: true }, `Removed upstream ${id} with its cache entries.`);
      return;
    }
    case 'move': {
      const { values, positionals } = parseCommand(
        'upstreams move',
        rest,
        { position: { type: 'string' } },
        { min: 1, max: 1, what: 'an upstream id' },
      );
      const id = idArg(positionals[0], 'the upstream id');
      if (values.position === undefined) throw new UsageError('upstreams move needs --position <n> (0 is first)');
      const { body } = await api.request<UpstreamJson>('PATCH', `/upstreams/${id}`, {
        position: intArg(values.position, 'position', { min: 0, max: 1_000_000 }),
      });
      const { body: all } = await api.request<UpstreamJson[]>('GET', `/registries/${body.registry_id}/upstreams`);
      if (values.json) return io.out(JSON.stringify(all, null, 2));
      io.out(upstreamsTable(all));
      return;
    }
    case 'reorder': {
      const { values, positionals } = parseCommand(
        'upstreams reorder',
        rest,
        {},
        { min: 2, max: 1000, what: 'a registry id and upstream ids in the new order' },
      );
      const registry = idArg(positionals[0], 'the registry id');
      const order = positionals.slice(1).map((p) => idArg(p, 'an upstream id'));
      if (new Set(order).size !== order.length) throw new UsageError('upstreams reorder: an upstream is listed twice');
      const { body: before } = await api.request<UpstreamJson[]>('GET', `/registries/${registry}/upstreams`);
      const strangers = order.filter((id) => !before.some((u) => u.id === id));
      if (strangers.length > 0) throw new CommandFailedError(`upstream ${strangers.join(', ')} is not in registry ${registry}`);
      // The API moves one upstream at a time (PATCH position); moving each to
      // its index in turn leaves the listed ones first, in order, the rest after.
      for (const [position, id] of order.entries()) await api.request('PATCH', `/upstreams/${id}`, { position });
      const { body: after } = await api.request<UpstreamJson[]>('GET', `/registries/${registry}/upstreams`);
      if (values.json) return io.out(JSON.stringify(after, null, 2));
      io.out(upstreamsTable(after));
      return;
    }
    case 'test': {
      const { values, positionals } = parseCommand(
        'upstreams test',
        rest,
        { url: { type: 'string' }, username: { type: 'string' }, 'password-stdin': { type: 'boolean' } },
        { min: 0, max: 1, what: 'an upstream id, or --url' },
      );
      if ((positionals.length === 1) === (values.url !== undefined))
        throw new UsageError('upstreams test needs an upstream id or --url <url>, not both');
      if (positionals.length === 1) {
        if (values.username !== undefined || values['password-stdin'] === true)
          throw new UsageError('a stored upstream is tested with its stored credentials; use --url to try others');
        const id = idArg(positionals[0], 'the upstream id');
        const { body } = await api.request<UpstreamTestJson>('POST', `/upstreams/${id}/test`);
        return printTest(body, `upstream ${id}`, io, values.json === true);
      }
      const url = checkUrl(values.url as string, '--url');
      const { body } = await api.request<UpstreamTestJson>('POST', '/upstreams/test', {
        url,
        ...(values.username === undefined ? {} : { username: values.username }),
        ...(values['password-stdin'] === true ? { password: await passwordFromStdin(io) } : {}),
      });
      return printTest(body, url, io, values.json === true);
    }
    default:
      throw new UsageError(sub === undefined ? UPSTREAMS_USAGE : `unknown upstreams command ${JSON.stringify(sub)}\n\n${UPSTREAMS_USAGE}`);
  }
}
