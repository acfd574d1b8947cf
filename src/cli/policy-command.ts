import { readFile } from 'node:fs/promises';
import { type AdminApiClient, AdminApiError, queryOf } from './admin-api-client.ts';
import { idArg, intArg, parseCommand } from './cli-args.ts';
import { type CliIo, CommandFailedError, UsageError } from './cli-io.ts';
import { formatTable } from './format-table.ts';
import { formatRecord, reportDone } from './print-record.ts';

interface RuleJson {
  name?: string;
  action: 'allow' | 'deny';
  image: string;
  tags?: string[];
  platforms?: string[];
}

interface PolicyJson {
  registry_id: string;
  default_action: 'allow' | 'deny';
  rules: RuleJson[];
  signatures: {
    mode: 'off' | 'audit' | 'enforce';
    keys: Array<{ name: string; pem: string; fingerprint: string }>;
    scopes: Array<{ image: string; mode: string }>;
    key_set_fingerprint: string;
    keyless?: KeylessJson | null;
  };
  updated_at: string;
}

interface KeylessJson {
  trusted_root: string;
  identities: Array<{ subject: string; issuer: string }>;
}

interface DenialJson {
  registry_id: string;
  image: string;
  reference: string;
  kind: string;
  mode: string;
  reason: string;
  rule: { index: number; name: string | null } | null;
  message: string;
  client: string;
  token_name: string | null;
  count: number;
  at: string;
}

type PolicyBody = Pick<PolicyJson, 'default_action' | 'rules'> & {
  signatures: {
    mode: string;
    keys: Array<{ name: string; pem: string }>;
    scopes: Array<{ image: string; mode: string }>;
    keyless?: KeylessJson | null;
  };
};

const MODES = ['off', 'audit', 'enforce'] as const;

export const POLICY_USAGE = `Usage:
  vreg policy show <registry> [--json]
  vreg policy set <registry> <file.json|-> [--json]
  vreg policy rule add <registry> (--allow|--deny) <image-glob> [--tag <glob>]... [--platform <os/arch>]... [--name <name>] [--position <n>] [--json]
  vreg policy rule remove <registry> <n> [--json]
  vreg policy default <registry> allow|deny [--json]
  vreg policy signatures <registry> off|audit|enforce [--image <glob>] [--json]
  vreg policy key add <registry> <name> <key.pub|-> [--json]
  vreg policy key remove <registry> <name> [--json]
  vreg policy keyless <registry> --trusted-root <trusted_root.json> (--subject <san-glob> --issuer <url>)... [--json]
  vreg policy keyless <registry> --off [--json]
  vreg policy delete <registry> [--json]
  vreg policy denials [<registry>] [--limit <n>] [--json]

A registry's pull policy: ordered allow and deny rules on image names (the
first that matches decides; globs: * within a path component, ** across
them, as in library/* or org/**), optionally only for some tags or, for
warm-ups, platforms; the default action for pulls no rule matches; and
cosign signature verification (off, audit: serve but record, enforce: serve
only what a trusted key signed), per registry or per image glob with
--image. Keys are PEM public keys as cosign generate-key-pair writes them;
trust two during a rotation. keyless trusts certificate signatures chained
to a sigstore trusted root (its CAs, and a timestamp authority: signatures
need an RFC 3161 timestamp) made by one of the identities given (each
--subject paired with the --issuer at the same place). set replaces the whole policy with a JSON file
as the admin API takes it (- reads stdin). denials lists refused pulls (and,
in audit mode, those that would have been), newest first.`;

/** A 404 about the policy itself, not about the registry. */
function isNoPolicy(err: unknown): boolean {
  return err instanceof AdminApiError && err.status === 404 && err.message === 'registry has no pull policy';
}

async function getPolicy(api: AdminApiClient, registry: string): Promise<PolicyJson | undefined> {
  try {
    return (await api.request<PolicyJson>('GET', `/registries/${registry}/pull_policy`)).body;
  } catch (err) {
    if (isNoPolicy(err)) return undefined;
    throw err;
  }
}

/** The policy as a PUT body; no policy yet: allow everything, no signatures. */
function bodyOf(policy: PolicyJson | undefined): PolicyBody {
  if (policy === undefined) return { default_action: 'allow', rules: [], signatures: { mode: 'off', keys: [], scopes: [] } };
  return {
    default_action: policy.default_action,
    rules: policy.rules.map((r) => ({ ...r })),
    signatures: {
      mode: policy.signatures.mode,
      keys: policy.signatures.keys.map((k) => ({ name: k.name, pem: k.pem })),
      scopes: policy.signatures.scopes.map((s) => ({ ...s })),
      keyless: policy.signatures.keyless ?? null,
    },
  };
}

function describeRule(rule: RuleJson): string {
  return [
    `${rule.action} ${rule.image}`,
    rule.tags ? ` tags ${rule.tags.join(', ')}` : '',
    rule.platforms ? ` platforms ${rule.platforms.join(', ')}` : '',
    rule.name ? `  (${rule.name})` : '',
  ].join('');
}

function describe(p: PolicyJson): string {
  const lines = [
    formatRecord([
      ['registry', p.registry_id],
      ['default', p.default_action],
      ['signatures', p.signatures.mode],
      [
        'keys',
        p.signatures.keys.length === 0 ? 'none' : p.signatures.keys.map((k) => `${k.name} (${k.fingerprint.slice(0, 16)})`).join(', '),
      ],
      ...p.signatures.scopes.map((s) => ['  for', `${s.image}: ${s.mode}`] as const),
      [
        'keyless',
        // Absent from servers older than keyless trust.
        p.signatures.keyless == null ? 'off' : p.signatures.keyless.identities.map((i) => `${i.subject} (${i.issuer})`).join(', '),
      ],
      ['updated', p.updated_at],
    ]),
  ];
  lines.push(p.rules.length === 0 ? 'rules: none' : `rules:\n${p.rules.map((r, i) => `  ${i + 1}. ${describeRule(r)}`).join('\n')}`);
  return lines.join('\n');
}

async function readSource(source: string, io: CliIo, what: string): Promise<string> {
  if (source === '-') return io.readStdin();
  try {
    return await readFile(source, 'utf8');
  } catch (err) {
    throw new CommandFailedError(`cannot read ${what} ${source}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

export async function policyCommand(args: string[], api: AdminApiClient, io: CliIo): Promise<void> {
  const [sub, ...rest] = args;
  /** Reads the policy, changes it, writes it back; prints what was stored. */
  const change = async (registry: string, json: boolean, edit: (body: PolicyBody) => void, done: string): Promise<void> => {
    const body = bodyOf(await getPolicy(api, registry));
    edit(body);
    const stored = (await api.request<PolicyJson>('PUT', `/registries/${registry}/pull_policy`, body)).body;
    if (json) io.out(JSON.stringify(stored, null, 2));
    else io.err(done);
  };
  switch (sub) {
    case 'show': {
      const { values, positionals } = parseCommand('policy show', rest, {}, { min: 1, max: 1, what: 'a registry id' });
      const registry = idArg(positionals[0], 'the registry id');
      const policy = await getPolicy(api, registry);
      if (values.json) return io.out(JSON.stringify(policy ?? null, null, 2));
      io.out(
        policy === undefined
          ? `Registry ${registry} has no pull policy: every pull is allowed, no signature is checked.`
          : describe(policy),
      );
      return;
    }
    case 'set': {
      const { values, positionals } = parseCommand(
        'policy set',
        rest,
        {},
        { min: 2, max: 2, what: 'a registry id and a JSON file (or -)' },
      );
      const registry = idArg(positionals[0], 'the registry id');
      let body: unknown;
      try {
        body = JSON.parse(await readSource(positionals[1] as string, io, 'the policy file'));
      } catch (err) {
        if (err instanceof CommandFailedError) throw err;
        throw new UsageError(`the policy is not JSON: ${(err as Error).message}`);
      }
      const stored = (await api.request<PolicyJson>('PUT', `/registries/${registry}/pull_policy`, body)).body;
      if (values.json) return io.out(JSON.stringify(stored, null, 2));
      io.out(describe(stored));
      return;
    }
    case 'rule': {
      const [verb, ...more] = rest;
      if (verb === 'add') {
        const { values, positionals } = parseCommand(
          'policy rule add',
          more,
          {
            allow: { type: 'boolean', default: false },
            deny: { type: 'boolean', default: false },
            tag: { type: 'string', multiple: true },
            platform: { type: 'string', multiple: true },
            name: { type: 'string' },
            position: { type: 'string' },
          },
          { min: 2, max: 2, what: 'a registry id and an image glob' },
        );
        if (values.allow === values.deny) throw new UsageError('policy rule add needs exactly one of --allow and --deny');
        const registry = idArg(positionals[0], 'the registry id');
        const rule: RuleJson = {
          ...(values.name === undefined ? {} : { name: values.name as string }),
          action: values.allow ? 'allow' : 'deny',
          image: positionals[1] as string,
          ...(values.tag === undefined ? {} : { tags: values.tag as string[] }),
          ...(values.platform === undefined ? {} : { platforms: values.platform as string[] }),
        };
        const position = values.position === undefined ? undefined : intArg(values.position as string, 'position', { min: 1, max: 256 });
        return change(
          registry,
          values.json === true,
          (body) => body.rules.splice(position === undefined ? body.rules.length : position - 1, 0, rule),
          `Rule added to registry ${registry}: ${describeRule(rule)}.`,
        );
      }
      if (verb === 'remove') {
        const { values, positionals } = parseCommand(
          'policy rule remove',
          more,
          {},
          { min: 2, max: 2, what: 'a registry id and a rule number' },
        );
        const registry = idArg(positionals[0], 'the registry id');
        const n = intArg(positionals[1] as string, 'rule number', { min: 1, max: 256 });
        return change(
          registry,
          values.json === true,
          (body) => {
            if (n > body.rules.length)
              throw new CommandFailedError(`registry ${registry}'s policy has ${body.rules.length} rules, no rule ${n}`);
            body.rules.splice(n - 1, 1);
          },
          `Rule ${n} removed from registry ${registry}.`,
        );
      }
      throw new UsageError('policy rule needs add or remove (see vreg policy --help)');
    }
    case 'default': {
      const { values, positionals } = parseCommand('policy default', rest, {}, { min: 2, max: 2, what: 'a registry id and allow or deny' });
      const registry = idArg(positionals[0], 'the registry id');
      const action = positionals[1];
      if (action !== 'allow' && action !== 'deny')
        throw new UsageError(`the default action is allow or deny, not ${JSON.stringify(action)}`);
      return change(
        registry,
        values.json === true,
        (body) => (body.default_action = action),
        `Registry ${registry}: pulls no rule matches are ${action === 'allow' ? 'allowed' : 'refused'}.`,
      );
    }
    case 'signatures': {
      const { values, positionals } = parseCommand(
        'policy signatures',
        rest,
        { image: { type: 'string' } },
        { min: 2, max: 2, what: 'a registry id and off, audit or enforce' },
      );
      const registry = idArg(positionals[0], 'the registry id');
      const mode = positionals[1] as (typeof MODES)[number];
      if (!MODES.includes(mode)) throw new UsageError(`the signature mode is off, audit or enforce, not ${JSON.stringify(mode)}`);
      const image = values.image as string | undefined;
      return change(
        registry,
        values.json === true,
        (body) => {
          if (image === undefined) body.signatures.mode = mode;
          else {
            const existing = body.signatures.scopes.find((s) => s.image === image);
            if (existing) existing.mode = mode;
            else body.signatures.scopes.push({ image, mode });
          }
        },
        `Registry ${registry}: signatures ${mode}${image === undefined ? '' : ` for ${image}`}.`,
      );
    }
    case 'key': {
      const [verb, ...more] = rest;
      if (verb === 'add') {
        const { values, positionals } = parseCommand(
          'policy key add',
          more,
          {},
          { min: 3, max: 3, what: 'a registry id, a key name and a PEM file (or -)' },
        );
        const registry = idArg(positionals[0], 'the registry id');
        const name = positionals[1] as string;
        const pem = await readSource(positionals[2] as string, io, 'the key file');
        return change(
          registry,
          values.json === true,
          (body) => {
            if (body.signatures.keys.some((k) => k.name === name))
              throw new CommandFailedError(`registry ${registry} already trusts a key named ${name}`);
            body.signatures.keys.push({ name, pem });
          },
          `Registry ${registry} now trusts key ${name}.`,
        );
      }
      if (verb === 'remove') {
        const { values, positionals } = parseCommand(
          'policy key remove',
          more,
          {},
          { min: 2, max: 2, what: 'a registry id and a key name' },
        );
        const registry = idArg(positionals[0], 'the registry id');
        const name = positionals[1] as string;
        return change(
          registry,
          values.json === true,
          (body) => {
            const before = body.signatures.keys.length;
            body.signatures.keys = body.signatures.keys.filter((k) => k.name !== name);
            if (body.signatures.keys.length === before) throw new CommandFailedError(`registry ${registry} trusts no key named ${name}`);
          },
          `Registry ${registry} no longer trusts key ${name}.`,
        );
      }
      throw new UsageError('policy key needs add or remove (see vreg policy --help)');
    }
    case 'keyless': {
      const { values, positionals } = parseCommand(
        'policy keyless',
        rest,
        {
          'trusted-root': { type: 'string' },
          subject: { type: 'string', multiple: true },
          issuer: { type: 'string', multiple: true },
          off: { type: 'boolean', default: false },
        },
        { min: 1, max: 1, what: 'a registry id' },
      );
      const registry = idArg(positionals[0], 'the registry id');
      if (values.off)
        return change(
          registry,
          values.json === true,
          (body) => (body.signatures.keyless = null),
          `Registry ${registry}: keyless signatures off.`,
        );
      const subjects = (values.subject as string[] | undefined) ?? [];
      const issuers = (values.issuer as string[] | undefined) ?? [];
      if (values['trusted-root'] === undefined || subjects.length === 0 || subjects.length !== issuers.length)
        throw new UsageError('policy keyless needs --trusted-root and as many --subject as --issuer, at least one (or --off)');
      const trustedRoot = await readSource(values['trusted-root'] as string, io, 'the trusted root');
      const identities = subjects.map((subject, i) => ({ subject, issuer: issuers[i] as string }));
      return change(
        registry,
        values.json === true,
        (body) => (body.signatures.keyless = { trusted_root: trustedRoot, identities }),
        `Registry ${registry} trusts keyless signatures by ${identities.map((i) => i.subject).join(', ')}.`,
      );
    }
    case 'delete': {
      const { values, positionals } = parseCommand('policy delete', rest, {}, { min: 1, max: 1, what: 'a registry id' });
      const registry = idArg(positionals[0], 'the registry id');
      try {
        await api.request('DELETE', `/registries/${registry}/pull_policy`);
      } catch (err) {
        if (isNoPolicy(err)) throw new CommandFailedError(`registry ${registry} has no pull policy`);
        throw err;
      }
      reportDone(
        io,
        values.json === true,
        { registry_id: registry, deleted: true },
        `Pull policy of registry ${registry} deleted: every pull is allowed.`,
      );
      return;
    }
    case 'denials': {
      const { values, positionals } = parseCommand(
        'policy denials',
        rest,
        { limit: { type: 'string' } },
        { min: 0, max: 1, what: 'at most a registry id' },
      );
      const registry = positionals[0] === undefined ? undefined : idArg(positionals[0], 'the registry id');
      const limit = values.limit === undefined ? 20 : intArg(values.limit as string, 'limit', { min: 1, max: 100 });
      const path =
        registry === undefined
          ? `/policy_denials${queryOf({ per_page: limit })}`
          : `/registries/${registry}/policy_denials${queryOf({ per_page: limit })}`;
      const { body, headers } = await api.request<DenialJson[]>('GET', path);
      if (values.json) return io.out(JSON.stringify(body, null, 2));
      if (body.length === 0)
        return io.out(registry === undefined ? 'No refused pulls recorded.' : `No refused pulls recorded for registry ${registry}.`);
      io.out(
        formatTable(
          ['TIME', 'REGISTRY', 'IMAGE', 'REFERENCE', 'MODE', 'REASON', 'CLIENT', 'COUNT'],
          body.map((d) => [
            d.at,
            d.registry_id,
            d.image,
            d.reference.length > 24 ? `${d.reference.slice(0, 23)}…` : d.reference,
            d.mode === 'audit' ? 'audit' : 'refused',
            d.rule === null ? d.reason : `rule ${d.rule.index}${d.rule.name === null ? '' : ` ${d.rule.name}`}`,
            d.token_name ?? d.client,
            String(d.count),
          ]),
        ),
      );
      const total = Number(headers.get('x-total') ?? body.length);
      if (total > body.length) io.err(`${body.length} of ${total} shown, newest first (--limit up to 100, or the admin API for more).`);
      return;
    }
    default:
      throw new UsageError(`unknown policy command ${JSON.stringify(sub ?? '')}; run vreg policy --help`);
  }
}
