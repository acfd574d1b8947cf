import { parseArgs } from 'node:util';
import type { AccessTokenJson } from '@vreg/contracts/admin-api-json';
import type { AdminApiClient } from './admin-api-client.ts';
import { type CliIo, UsageError } from './cli-io.ts';
import { formatTable } from './format-table.ts';
import { reportDone } from './print-record.ts';

export const TOKENS_USAGE = `Usage:
  vreg tokens create --name <name> [--scope read_virtual_registry|admin]... [--registry <id>]...
                     [--expires-at <ISO time> | --expires-in <n>(h|d)] [--json]
  vreg tokens list [--json]
  vreg tokens revoke <id> [--json]

create prints the token once: it is stored only as a hash. Default scope: read_virtual_registry.
Use it as the password of docker login / skopeo login / podman login (any username).

--registry restricts a token to those registries, whatever its scopes: a pull
token pulls only from them, an admin token administers only them (their
upstreams, cache, policies, jobs and tokens) and is refused everything that
concerns every registry (creating registries, gc, the overview, quotas,
mirror hosts).
Logged in with such a token, tokens create needs --registry with some of its
registries, and --expires-at/--expires-in no later than its own expiry.`;

const DURATION_RE = /^([1-9][0-9]{0,5})(h|d)$/;

/** `--expires-in 30d` → an ISO time from `now`. */
export function expiryFrom(expiresIn: string, now: Date): string {
  const m = DURATION_RE.exec(expiresIn);
  if (m === null) throw new UsageError(`--expires-in must look like 12h or 30d, not ${JSON.stringify(expiresIn)}`);
  const hours = Number(m[1]) * (m[2] === 'd' ? 24 : 1);
  return new Date(now.getTime() + hours * 3_600_000).toISOString();
}

function status(t: AccessTokenJson): string {
  if (t.revoked) return 'revoked';
  return t.active ? 'active' : 'expired';
}

export async function tokensCommand(args: string[], api: AdminApiClient, io: CliIo): Promise<void> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'create': {
      const { values } = parseArgs({
        args: rest,
        options: {
          name: { type: 'string' },
          scope: { type: 'string', multiple: true },
          registry: { type: 'string', multiple: true },
          'expires-at': { type: 'string' },
          'expires-in': { type: 'string' },
          json: { type: 'boolean', default: false },
        },
        strict: true,
      });
      if (values.name === undefined) throw new UsageError('tokens create needs --name');
      if (values['expires-at'] !== undefined && values['expires-in'] !== undefined)
        throw new UsageError('give --expires-at or --expires-in, not both');
      const expiresAt = values['expires-in'] !== undefined ? expiryFrom(values['expires-in'], io.now()) : values['expires-at'];
      const { body } = await api.request<AccessTokenJson & { token: string }>('POST', '/access_tokens', {
        name: values.name,
        scopes: values.scope ?? ['read_virtual_registry'],
        ...(values.registry === undefined ? {} : { registry_ids: values.registry }),
        ...(expiresAt === undefined ? {} : { expires_at: expiresAt }),
      });
      if (values.json) {
        io.out(JSON.stringify(body, null, 2));
        return;
      }
      io.err(
        `Created access token ${body.id} "${body.name}": scopes ${body.scopes.join(', ')}; ` +
          `registries ${body.registry_ids?.join(', ') ?? 'all'}; expires ${body.expires_at ?? 'never'}.\n` +
          'The token is shown only now; store it safely:',
      );
      // The token alone on stdout, so `TOKEN=$(vreg tokens create ...)` works.
      io.out(body.token);
      return;
    }
    case 'list': {
      const { values } = parseArgs({ args: rest, options: { json: { type: 'boolean', default: false } }, strict: true });
      const tokens = await api.listAll<AccessTokenJson>('/access_tokens');
      if (values.json) {
        io.out(JSON.stringify(tokens, null, 2));
        return;
      }
      io.out(
        formatTable(
          ['ID', 'NAME', 'PREFIX', 'SCOPES', 'REGISTRIES', 'EXPIRES', 'LAST USED', 'STATUS'],
          tokens.map((t) => [
            t.id,
            t.name,
            `${t.token_prefix}…`,
            t.scopes.join(','),
            t.registry_ids?.join(',') ?? 'all',
            t.expires_at ?? 'never',
            t.last_used_at ?? '-',
            status(t),
          ]),
        ),
      );
      return;
    }
    case 'revoke': {
      const { values, positionals } = parseArgs({
        args: rest,
        options: { json: { type: 'boolean', default: false } },
        allowPositionals: true,
        strict: true,
      });
      if (positionals.length !== 1 || !/^[1-9][0-9]*$/.test(positionals[0] as string))
        throw new UsageError('tokens revoke needs one token id (see vreg tokens list)');
      await api.request('DELETE', `/access_tokens/${positionals[0]}`);
      reportDone(io, values.json, { id: positionals[0], revoked: true }, `Revoked access token ${positionals[0]}.`);
      return;
    }
    default:
      throw new UsageError(sub === undefined ? TOKENS_USAGE : `unknown tokens command ${JSON.stringify(sub)}\n\n${TOKENS_USAGE}`);
  }
}
