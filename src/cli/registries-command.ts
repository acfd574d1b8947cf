import type { RegistryMirrorHostsJson, UpstreamJson } from '@vreg/contracts/admin-api-json';
import type { AdminApiClient } from './admin-api-client.ts';
import { idArg, parseCommand } from './cli-args.ts';
import { type CliIo, UsageError } from './cli-io.ts';
import { formatBytes, parseByteSize } from './format-bytes.ts';
import { formatTable } from './format-table.ts';
import { formatRecord, reportDone } from './print-record.ts';
import { upstreamsTable } from './upstreams-command.ts';

export interface RegistryJson {
  id: string;
  name: string;
  description?: string;
  visibility: string;
  max_stored_bytes?: number | null;
  created_at: string;
  updated_at?: string;
}

export const REGISTRIES_USAGE = `Usage:
  vreg registries list [--json]
  vreg registries show <id> [--json]             the registry and its upstreams in order
  vreg registries create --name <name> [--description <text>] [--visibility private|public]
                         [--max-stored-bytes <size>|none] [--json]
  vreg registries update <id> [--name <name>] [--description <text>] [--no-description]
                         [--visibility private|public] [--max-stored-bytes <size>|none] [--json]
  vreg registries delete <id> [--json]
  vreg registries mirror-hosts <id> [<host>...] [--none] [--json]

A registry is private unless created --visibility public (anonymous pulls).
--max-stored-bytes takes 500MB, 10GiB or bytes: past it the least recently
downloaded entries are purged; none removes the quota.
Pull from it as HOST/virtual_registries/containers/<id>/<image>:<tag>.

mirror-hosts shows the upstream hosts a registry mirrors, or sets them (the
whole set; --none for none): pulls at vreg's root path for those hosts
(containerd's ?ns=<host>; Docker's registry-mirrors for docker.io) go to it.
A host belongs to one registry. vreg mirror-config prints the runtime side.
Setting them decides where every node's pulls go: a token restricted to
registries may show them, not set them.`;

function quota(r: RegistryJson): string {
  return r.max_stored_bytes === undefined || r.max_stored_bytes === null ? 'none' : formatBytes(r.max_stored_bytes);
}

function visibilityArg(value: string | undefined): string | undefined {
  if (value !== undefined && value !== 'private' && value !== 'public') throw new UsageError('--visibility is private or public');
  return value;
}

const EDIT_OPTIONS = {
  name: { type: 'string' },
  description: { type: 'string' },
  visibility: { type: 'string' },
  'max-stored-bytes': { type: 'string' },
} as const;

export async function registriesCommand(args: string[], api: AdminApiClient, io: CliIo): Promise<void> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'list': {
      const { values } = parseCommand('registries list', rest, {}, { min: 0, max: 0, what: 'no arguments' });
      const registries = await api.listAll<RegistryJson>('/registries');
      if (values.json) return io.out(JSON.stringify(registries, null, 2));
      io.out(
        formatTable(
          ['ID', 'NAME', 'VISIBILITY', 'QUOTA', 'DESCRIPTION'],
          registries.map((r) => [r.id, r.name, r.visibility, quota(r), r.description ?? '']),
        ),
      );
      return;
    }
    case 'show': {
      const { values, positionals } = parseCommand('registries show', rest, {}, { min: 1, max: 1, what: 'a registry id' });
      const id = idArg(positionals[0], 'the registry id');
      const { body } = await api.request<RegistryJson>('GET', `/registries/${id}`);
      if (values.json) return io.out(JSON.stringify(body, null, 2));
      const { body: mirrors } = await api.request<RegistryMirrorHostsJson>('GET', `/registries/${id}/mirror_hosts`);
      io.out(
        formatRecord([
          ['id', body.id],
          ['name', body.name],
          ['description', body.description ?? ''],
          ['visibility', body.visibility],
          ['quota', quota(body)],
          ['mirrors', mirrors.hosts.length === 0 ? 'none' : mirrors.hosts.join(', ')],
          ['created', body.created_at],
          ['updated', body.updated_at ?? ''],
        ]),
      );
      const { body: upstreams } = await api.request<UpstreamJson[]>('GET', `/registries/${id}/upstreams`);
      io.out(
        upstreams.length === 0
          ? `\nNo upstreams yet (vreg upstreams add ${id} --name <name> --url <url>).`
          : `\n${upstreamsTable(upstreams)}`,
      );
      return;
    }
    case 'create': {
      const { values } = parseCommand('registries create', rest, EDIT_OPTIONS, { min: 0, max: 0, what: 'options only' });
      if (values.name === undefined) throw new UsageError('registries create needs --name');
      const maxStored =
        values['max-stored-bytes'] === undefined ? undefined : parseByteSize(values['max-stored-bytes'], 'max-stored-bytes');
      const { body } = await api.request<RegistryJson>('POST', '/registries', {
        name: values.name,
        ...(values.description === undefined ? {} : { description: values.description }),
        ...(visibilityArg(values.visibility) === undefined ? {} : { visibility: values.visibility }),
        ...(maxStored === undefined ? {} : { max_stored_bytes: maxStored }),
      });
      if (values.json) io.out(JSON.stringify(body, null, 2));
      else io.out(`Created ${body.visibility} registry ${body.id} "${body.name}".`);
      return;
    }
    case 'update': {
      const { values, positionals } = parseCommand(
        'registries update',
        rest,
        { ...EDIT_OPTIONS, 'no-description': { type: 'boolean' } },
        { min: 1, max: 1, what: 'a registry id' },
      );
      const id = idArg(positionals[0], 'the registry id');
      if (values.description !== undefined && values['no-description'] === true)
        throw new UsageError('give --description or --no-description, not both');
      const patch = {
        ...(values.name === undefined ? {} : { name: values.name }),
        ...(values.description === undefined ? {} : { description: values.description }),
        ...(values['no-description'] === true ? { description: null } : {}),
        ...(visibilityArg(values.visibility) === undefined ? {} : { visibility: values.visibility }),
        ...(values['max-stored-bytes'] === undefined
          ? {}
          : { max_stored_bytes: parseByteSize(values['max-stored-bytes'], 'max-stored-bytes') }),
      };
      if (Object.keys(patch).length === 0)
        throw new UsageError(
          'registries update needs something to change: --name, --description, --no-description, --visibility or --max-stored-bytes',
        );
      const { body } = await api.request<RegistryJson>('PATCH', `/registries/${id}`, patch);
      if (values.json) io.out(JSON.stringify(body, null, 2));
      else io.out(`Updated registry ${body.id} "${body.name}": ${body.visibility}, quota ${quota(body)}.`);
      return;
    }
    case 'delete': {
      const { values, positionals } = parseCommand('registries delete', rest, {}, { min: 1, max: 1, what: 'a registry id' });
      const id = idArg(positionals[0], 'the registry id');
      await api.request('DELETE', `/registries/${id}`);
      reportDone(io, values.json === true, { id, deleted: true }, `Deleted registry ${id} with its upstreams and cache entries.`);
      return;
    }
    case 'mirror-hosts': {
      const { values, positionals } = parseCommand(
        'registries mirror-hosts',
        rest,
        { none: { type: 'boolean', default: false } },
        { min: 1, max: 51, what: 'a registry id, then the hosts it mirrors' },
      );
      const id = idArg(positionals[0], 'the registry id');
      const hosts = positionals.slice(1);
      if (values.none === true && hosts.length > 0) throw new UsageError('give hosts or --none, not both');
      const { body } =
        hosts.length === 0 && values.none !== true
          ? await api.request<RegistryMirrorHostsJson>('GET', `/registries/${id}/mirror_hosts`)
          : await api.request<RegistryMirrorHostsJson>('PUT', `/registries/${id}/mirror_hosts`, { hosts });
      if (values.json) return io.out(JSON.stringify(body, null, 2));
      if (body.hosts.length === 0) io.out(`Registry ${id} mirrors no host.`);
      else io.out(`Registry ${id} mirrors ${body.hosts.join(', ')}.`);
      return;
    }
    default:
      throw new UsageError(
        sub === undefined ? REGISTRIES_USAGE : `unknown registries command ${JSON.stringify(sub)}\n\n${REGISTRIES_USAGE}`,
      );
  }
}
