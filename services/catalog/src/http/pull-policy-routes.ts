import {
  DenialModeSchema,
  DenialReasonSchema,
  DeniedKindSchema,
  ImagePatternSchema,
  PlatformSchema,
  POLICY_KEY_PEM_MAX,
  POLICY_KEYS_MAX,
  POLICY_RULES_MAX,
  POLICY_SCOPES_MAX,
  POLICY_TRUSTED_ROOT_MAX,
  PolicyActionSchema,
  type PullPolicy,
  SignatureModeSchema,
  TagPatternSchema,
} from '@vreg/contracts';
import { keySetFingerprint, parseKeySet } from '@vreg/policy';
import { z } from 'zod';
import type { PullPolicies } from '../domain/pull-policies.ts';
import type { PolicyDenial, StoredPullPolicy } from '../domain/pull-policy.ts';
import { adminPrincipalOf, visibleRegistryIds } from './admin-auth.ts';
import { errorResponses, IdParams, NoContent, PageQuery } from './api-schemas.ts';
import { pageRequestOf, setPaginationHeaders } from './pagination.ts';
import { RouteReaches } from './route-reach.ts';
import type { AdminRoutes } from './zod-type-provider.ts';

const timestamp = z.string().meta({ description: 'ISO-8601 UTC' });

const RuleBody = z.strictObject({
  name: z.string().trim().min(1).max(64).optional().meta({ description: 'Named in refusals and records; default `rule <n>`' }),
  action: PolicyActionSchema,
  image: ImagePatternSchema.meta({
    description: 'Repository glob: `*` within one path component, `**` across them (`org/**`), `?` one character',
  }),
  tags: z
    .array(TagPatternSchema)
    .min(1)
    .max(32)
    .optional()
    .meta({ description: 'Only pulls by one of these tags (globs); absent = every pull of the image, by tag or digest, blobs included' }),
  platforms: z
    .array(PlatformSchema)
    .min(1)
    .max(64)
    .optional()
    .meta({ description: 'Only warm-ups of these platforms (os/arch[/variant]); pulls carry no platform and skip such rules' }),
});

const KeyBody = z.strictObject({
  name: z.string().trim().min(1).max(64),
  pem: z
    .string()
    .min(1)
    .max(POLICY_KEY_PEM_MAX)
    .meta({ description: 'PEM public key as cosign generate-key-pair writes it (ECDSA P-256/384/521 or RSA >= 2048); Ed25519 is refused' }),
});

const KeylessBody = z.strictObject({
  trusted_root: z.union([z.string().min(2).max(POLICY_TRUSTED_ROOT_MAX), z.record(z.string(), z.unknown())]).meta({
    description:
      'The sigstore trusted root (trusted_root.json, as cosign --trusted-root reads it), as JSON or a string of it: its certificate authorities sign the certificates, its timestamp authorities vouch for when; no transparency log is read',
  }),
  identities: z
    .array(z.strictObject({ subject: z.string().min(1).max(512), issuer: z.string().min(1).max(512) }))
    .min(1)
    .max(32)
    .meta({
      description: "Who may sign: the certificate's SAN (e-mail or URI; * matches any run of characters) and its OIDC issuer, exactly",
    }),
});

const SignaturesBody = z.strictObject({
  mode: SignatureModeSchema.meta({
    description:
      '`off`; `audit`: verify, serve anyway, record what would be refused; `enforce`: serve a manifest only if a trusted key signed it',
  }),
  keys: z
    .array(KeyBody)
    .max(POLICY_KEYS_MAX)
    .default([])
    .meta({ description: 'Trusted keys: a signature by any one of them passes (rotation)' }),
  scopes: z
    .array(z.strictObject({ image: ImagePatternSchema, mode: SignatureModeSchema }))
    .max(POLICY_SCOPES_MAX)
    .optional()
    .meta({ description: 'A mode per image pattern, first match wins; images no scope matches get `mode`' }),
  keyless: KeylessBody.nullable().optional().meta({ description: 'Keyless (certificate) signatures; null or absent: none' }),
});

const PullPolicyBody = z.strictObject({
  default_action: PolicyActionSchema.default('allow').meta({ description: 'What happens to a pull no rule matches' }),
  rules: z.array(RuleBody).max(POLICY_RULES_MAX).default([]).meta({ description: 'In order: the first rule that matches decides' }),
  signatures: SignaturesBody.default({ mode: 'off', keys: [] }),
});

const KeyJson = z.object({
  name: z.string(),
  pem: z.string(),
  fingerprint: z.string().meta({ description: 'sha256 of the key (SubjectPublicKeyInfo DER), hex' }),
});

export const PullPolicyJson = z.object({
  registry_id: z.string(),
  default_action: PolicyActionSchema,
  rules: z.array(RuleBody),
  signatures: z.object({
    mode: SignatureModeSchema,
    keys: z.array(KeyJson),
    scopes: z.array(z.object({ image: z.string(), mode: SignatureModeSchema })),
    key_set_fingerprint: z.string().meta({ description: 'Verdicts are cached under it: a change of keys re-verifies' }),
    keyless: z
      .object({
        trusted_root: z.string().meta({ description: 'As stored, byte-exact' }),
        identities: z.array(z.object({ subject: z.string(), issuer: z.string() })),
      })
      .nullable(),
  }),
  created_at: timestamp,
  updated_at: timestamp,
});

export const PolicyDenialJson = z.object({
  id: z.string(),
  registry_id: z.string(),
  image: z.string(),
  reference: z.string().meta({ description: 'The tag or digest asked for' }),
  kind: DeniedKindSchema,
  digest: z.string().nullable().meta({ description: 'The manifest digest judged, when known' }),
  mode: DenialModeSchema.meta({ description: '`enforce`: refused; `audit`: served, would have been refused' }),
  reason: DenialReasonSchema,
  rule: z.object({ index: z.number(), name: z.string().nullable() }).nullable(),
  message: z.string(),
  client: z.string().meta({ description: '`access-token:<id>`, `anonymous` or `warm-job:<id>`' }),
  token_name: z.string().nullable().meta({ description: "The access token's name, when the client was one" }),
  count: z.number().meta({ description: 'Identical refusals this record stands for (gathered within a second)' }),
  at: timestamp,
});

const DenialsQuery = PageQuery.extend({
  registry_id: z
    .string()
    .regex(/^[1-9][0-9]{0,14}$/)
    .optional()
    .meta({ description: 'Only this registry' }),
});

function toPolicy(body: z.output<typeof PullPolicyBody>): PullPolicy {
  return {
    defaultAction: body.default_action,
    rules: body.rules.map((r) => ({
      ...(r.name === undefined ? {} : { name: r.name }),
      action: r.action,
      image: r.image,
      ...(r.tags === undefined ? {} : { tags: r.tags }),
      ...(r.platforms === undefined ? {} : { platforms: r.platforms }),
    })),
    signatures: {
      mode: body.signatures.mode,
      keys: body.signatures.keys.map((k) => ({ name: k.name, pem: k.pem })),
      ...(body.signatures.scopes === undefined ? {} : { scopes: body.signatures.scopes }),
      ...(body.signatures.keyless == null
        ? {}
        : {
            keyless: {
              trustedRoot:
                typeof body.signatures.keyless.trusted_root === 'string'
                  ? body.signatures.keyless.trusted_root
                  : JSON.stringify(body.signatures.keyless.trusted_root),
              identities: body.signatures.keyless.identities,
            },
          }),
    },
  };
}

export function toPullPolicyJson(stored: StoredPullPolicy): z.input<typeof PullPolicyJson> {
  const { policy } = stored;
  const parsed = parseKeySet(policy.signatures.keys);
  return {
    registry_id: stored.registryId,
    default_action: policy.defaultAction,
    rules: policy.rules.map((r) => ({ ...r })),
    signatures: {
      mode: policy.signatures.mode,
      keys: policy.signatures.keys.map((k) => {
        const key = parsed.find((p) => p.name === k.name);
        return { name: k.name, pem: k.pem, fingerprint: key === undefined ? '' : keySetFingerprint([key]) };
      }),
      scopes: policy.signatures.scopes ?? [],
      key_set_fingerprint: keySetFingerprint(parsed),
      keyless:
        policy.signatures.keyless === undefined
          ? null
          : { trusted_root: policy.signatures.keyless.trustedRoot, identities: policy.signatures.keyless.identities },
    },
    created_at: stored.createdAt.toISOString(),
    updated_at: stored.updatedAt.toISOString(),
  };
}

export function toDenialJson(d: PolicyDenial): z.input<typeof PolicyDenialJson> {
  return {
    id: d.id,
    registry_id: d.registryId,
    image: d.image,
    reference: d.reference,
    kind: d.kind,
    digest: d.digest ?? null,
    mode: d.mode,
    reason: d.reason,
    rule: d.rule === undefined ? null : { index: d.rule.index, name: d.rule.name ?? null },
    message: d.message,
    client: d.client,
    token_name: d.tokenName ?? null,
    count: d.count,
    at: d.at.toISOString(),
  };
}

/** `/registries/:id/pull_policy` (GET, PUT, DELETE), `/registries/:id/policy_denials` and `/policy_denials`. */
export const pullPolicyRoutes: AdminRoutes<{ policies: PullPolicies }> = async (app, { policies }) => {
  app.get('/registries/:id/pull_policy', {
    config: {
      reach: RouteReaches.registry,
      summary: 'Get the pull policy of a virtual registry: rules and signature verification (404 when it has none)',
    },
    schema: { params: IdParams, response: { 200: PullPolicyJson, ...errorResponses(401, 403, 404) } },
    handler: async (request) => toPullPolicyJson(await policies.get(request.params.id)),
  });

  app.put('/registries/:id/pull_policy', {
    config: {
      reach: RouteReaches.registry,
      summary:
        'Create or replace the pull policy of a virtual registry; every gateway applies it at once. 400 lists every problem (an Ed25519 or unreadable key, a pattern that cannot match, audit/enforce without a key)',
    },
    schema: { params: IdParams, body: PullPolicyBody, response: { 200: PullPolicyJson, ...errorResponses(400, 401, 403, 404) } },
    handler: async (request) => toPullPolicyJson(await policies.put(request.params.id, toPolicy(request.body))),
  });

  app.delete('/registries/:id/pull_policy', {
    config: {
      reach: RouteReaches.registry,
      summary: 'Delete the pull policy of a virtual registry: every pull is allowed again, no signature is checked',
    },
    schema: { params: IdParams, response: { 204: NoContent, ...errorResponses(401, 403, 404) } },
    handler: async (request, reply) => {
      await policies.delete(request.params.id);
      return reply.status(204).send(undefined);
    },
  });

  app.get('/registries/:id/policy_denials', {
    config: {
      reach: RouteReaches.registry,
      summary: 'List the pulls the policy of a virtual registry refused (or would have, in audit mode), newest first',
    },
    schema: {
      params: IdParams,
      querystring: PageQuery,
      response: { 200: z.array(PolicyDenialJson), ...errorResponses(400, 401, 403, 404) },
    },
    handler: async (request, reply) => {
      const page = pageRequestOf(request.query);
      const result = await policies.listDenials(request.params.id, page);
      setPaginationHeaders(reply, page, result.total);
      return result.items.map(toDenialJson);
    },
  });

  app.get('/policy_denials', {
    config: {
      reach: RouteReaches.filtered,
      summary: "List the pulls refused by any registry's policy (or that would have been, in audit mode), newest first",
    },
    schema: { querystring: DenialsQuery, response: { 200: z.array(PolicyDenialJson), ...errorResponses(400, 401, 403) } },
    handler: async (request, reply) => {
      const page = pageRequestOf(request.query);
      // A token restricted to some registries sees only theirs: filtered in the query, not after.
      const visible = visibleRegistryIds(adminPrincipalOf(request));
      const wanted = request.query.registry_id === undefined ? undefined : [request.query.registry_id];
      const registryIds = visible === undefined ? wanted : (wanted ?? visible).filter((id) => visible.includes(id));
      const result = await policies.listAllDenials(registryIds === undefined ? {} : { registryIds }, page);
      setPaginationHeaders(reply, page, result.total);
      return result.items.map(toDenialJson);
    },
  });
};
