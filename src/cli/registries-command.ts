import { parseArgs } from 'node:util';
import type { AdminApiClient } from './admin-api-client.ts';
import { formatTable } from './format-table.ts';
import { UsageError, type CliIo } from './cli-io.ts';

interface RegistryJson {
  id: string;
  name: string;
  description?: string;
  visibility: string;
  created_at: string;
}

export const REGISTRIES_USAGE = `Usage:
  vreg registries list [--json]
  vreg registries create --name <name> [--description <text>] [--visibility private|public] [--json]

A registry is private unless created --visibility public (anonymous pulls).
Pull from it as HOST/virtual_registries/containers/<id>/<image>:<tag>.`;

export async function registriesCommand(args: string[], api: AdminApiClient, io: CliIo): Promise<void> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'list': {
      const { values } = parseArgs({ args: rest, options: { json: { type: 'boolean', default: false } }, strict: true });
      const registries = await api.listAll<RegistryJson>('/registries');
      if (values.json) {
        io.out(JSON.stringify(registries, null, 2));
        return;
      }
      io.out(formatTable(['ID', 'NAME', 'VISIBILITY', 'DESCRIPTION'], registries.map((r) => [r.id, r.name, r.visibility, r.description ?? ''])));
      return;
    }
    case 'create': {
      const { values } = parseArgs({
        args: rest,
        options: {
          name: { type: 'string' },
          description: { type: 'string' },
          visibility: { type: 'string' },
          json: { type: 'boolean', default: false },
        },
        strict: true,
      });
      if (values.name === undefined) throw new UsageError('registries create needs --name');
      if (values.visibility !== undefined && values.visibility !== 'private' && values.visibility !== 'public') throw new UsageError('--visibility is private or public');
      const { body } = await api.request<RegistryJson>('POST', '/registries', {
        name: values.name,
        ...(values.description === undefined ? {} : { description: values.description }),
        ...(values.visibility === undefined ? {} : { visibility: values.visibility }),
      });
      if (values.json) io.out(JSON.stringify(body, null, 2));
      else io.out(`Created ${body.visibility} registry ${body.id} "${body.name}".`);
      return;
    }
    default:
      throw new UsageError(sub === undefined ? REGISTRIES_USAGE : `unknown registries command ${JSON.stringify(sub)}\n\n${REGISTRIES_USAGE}`);
  }
}
