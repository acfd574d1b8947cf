import { z } from 'zod';
import { DigestSchema } from './events.ts';
import { PlatformSchema } from './warm.ts';

/**
 * A registry's pull policy: ordered allow and deny rules on image names (and
 * optionally tags and platforms), and cosign signature verification. The
 * catalog stores and validates it, and sends it with the registry (`RegistryView.policy`);
 * gateways and fetchers decide with @vreg/policy before anything is served or warmed.
 */
export const PolicyActions = { allow: 'allow', deny: 'deny' } as const;
export type PolicyAction = (typeof PolicyActions)[keyof typeof PolicyActions];
export const PolicyActionSchema = z.enum([PolicyActions.allow, PolicyActions.deny]);

/** `off`: no verification; `audit`: verify, serve anyway, record what would be refused; `enforce`: serve only what a trusted key signed. */
export const SignatureModes = { off: 'off', audit: 'audit', enforce: 'enforce' } as const;
export type SignatureMode = (typeof SignatureModes)[keyof typeof SignatureModes];
export const SignatureModeSchema = z.enum([SignatureModes.off, SignatureModes.audit, SignatureModes.enforce]);

/** Longest image or tag pattern, in characters. */
export const POLICY_PATTERN_MAX = 255;
/** Rules a policy may hold. */
export const POLICY_RULES_MAX = 256;
/** Trusted keys a policy may hold (rotation needs two; a few teams' keys, a few more). */
export const POLICY_KEYS_MAX = 16;
/** Per-image signature modes a policy may hold. */
export const POLICY_SCOPES_MAX = 64;
/** Longest PEM of a trusted key: an RSA-4096 SPKI is about 800 characters. */
export const POLICY_KEY_PEM_MAX = 8192;

/**
 * An image name glob: `*` is any run of characters but `/`, `**` any run
 * including `/` (`org/**` is every repository under `org/`), `?` one
 * character but `/`; everything else matches itself.
 */
export const ImagePatternSchema = z
  .string()
  .min(1)
  .max(POLICY_PATTERN_MAX)
  .regex(/^[a-z0-9._\-/*?]+$/, 'an image pattern uses lower-case letters, digits, . _ - / and the wildcards * ** ?');
/** A tag glob: `*` any run of characters, `?` one. */
export const TagPatternSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.\-*?]+$/, 'a tag pattern uses letters, digits, _ . - and the wildcards * ?');

export const PolicyRuleSchema = z.object({
  /** Shown in refusals and records; default `rule <n>` (1-based position). */
  name: z.string().min(1).max(64).optional(),
  action: PolicyActionSchema,
  /** Which repositories the rule is about. */
  image: ImagePatternSchema,
  /** Only pulls by one of these tags; absent = every pull of the image (tags, digests, blobs). */
  tags: z.array(TagPatternSchema).min(1).max(32).optional(),
  /** Only warm-ups of these platforms (`os/arch[/variant]`); pulls carry no platform and skip such rules. */
  platforms: z.array(PlatformSchema).min(1).max(64).optional(),
});
export type PolicyRule = z.infer<typeof PolicyRuleSchema>;

/** A public key trusted to sign images: PEM `PUBLIC KEY` as `cosign generate-key-pair` writes it (ECDSA P-256/384/521 or RSA). */
export const TrustedKeySchema = z.object({
  /** Unique in the policy; reported when a signature verifies. */
  name: z.string().min(1).max(64),
  pem: z.string().min(1).max(POLICY_KEY_PEM_MAX),
});
export type TrustedKey = z.infer<typeof TrustedKeySchema>;

/** A signature mode for the images matching `image` (first match wins; no match: the policy's `signatures.mode`). */
export const SignatureScopeSchema = z.object({ image: ImagePatternSchema, mode: SignatureModeSchema });
export type SignatureScope = z.infer<typeof SignatureScopeSchema>;

/** Longest trusted root accepted, in characters: the public Sigstore one is about 6 KB; a private one with a few CAs stays far below. */
export const POLICY_TRUSTED_ROOT_MAX = 256 * 1024;

/**
 * A signer identity keyless signatures must carry: the certificate's SAN
 * (an e-mail or URI; `*` matches any run of characters) and its OIDC issuer
 * (Fulcio's extension), both required.
 */
export const KeylessIdentitySchema = z.object({
  subject: z.string().min(1).max(512),
  issuer: z.string().min(1).max(512),
});
export type KeylessIdentity = z.infer<typeof KeylessIdentitySchema>;

/**
 * Keyless (certificate) signatures: the operator's sigstore trusted root
 * (`trusted_root.json`: its certificate authorities and timestamp
 * authorities, as `cosign --trusted-root` reads it) and the identities
 * trusted to sign. Verified offline; an RFC 3161 timestamp is required.
 */
export const KeylessPolicySchema = z.object({
  /** The trusted root as JSON text, byte-exact. */
  trustedRoot: z.string().min(2).max(POLICY_TRUSTED_ROOT_MAX),
  identities: z.array(KeylessIdentitySchema).min(1).max(32),
});
export type KeylessPolicy = z.infer<typeof KeylessPolicySchema>;

export const SignaturePolicySchema = z.object({
  mode: SignatureModeSchema,
  keys: z.array(TrustedKeySchema).max(POLICY_KEYS_MAX),
  scopes: z.array(SignatureScopeSchema).max(POLICY_SCOPES_MAX).optional(),
  /** Certificate signatures, besides (or instead of) keys. */
  keyless: KeylessPolicySchema.optional(),
});
export type SignaturePolicy = z.infer<typeof SignaturePolicySchema>;

export const PullPolicySchema = z.object({
  /** What happens to a pull no rule matches. */
  defaultAction: PolicyActionSchema,
  /** In order: the first rule that matches decides. */
  rules: z.array(PolicyRuleSchema).max(POLICY_RULES_MAX),
  signatures: SignaturePolicySchema,
});
export type PullPolicy = z.infer<typeof PullPolicySchema>;

/** Why a pull was refused (or, in audit mode, would have been): a bounded set, used as a metrics label. */
export const DenialReasons = {
  /** A deny rule matched. */
  rule: 'rule',
  /** No rule matched and the default action is deny. */
  default: 'default',
  /** No cosign signature was found for the digest. */
  unsigned: 'unsigned',
  /** Signatures exist, but none verifies with a trusted key for this digest. */
  untrusted: 'untrusted',
} as const;
export type DenialReason = (typeof DenialReasons)[keyof typeof DenialReasons];
export const DenialReasonSchema = z.enum([DenialReasons.rule, DenialReasons.default, DenialReasons.unsigned, DenialReasons.untrusted]);

/** `enforce`: the pull was refused; `audit`: it was served, and would have been refused. */
export const DenialModes = { enforce: 'enforce', audit: 'audit' } as const;
export type DenialMode = (typeof DenialModes)[keyof typeof DenialModes];
export const DenialModeSchema = z.enum([DenialModes.enforce, DenialModes.audit]);

/** What was asked for: a manifest, a blob, a tag list or referrers listing, or a warm-up job. */
export const DeniedKindSchema = z.enum(['manifest', 'blob', 'tags', 'referrers', 'warm']);
export type DeniedKind = z.infer<typeof DeniedKindSchema>;

/**
 * Published by a gateway (or a fetcher, for a warm-up) when a pull is
 * refused by the policy, or would be in audit mode. Identical refusals a few
 * moments apart are sent once with their `count`. JetStream; the catalog
 * stores them (bounded) for the admin API, the CLI and the console.
 */
export const PolicyDeniedSchema = z.object({
  eventId: z.string().min(1).max(64),
  registryId: z.string().min(1).max(64),
  image: z.string().min(1).max(255),
  /** The tag or digest asked for (a job's tag for a warm-up). */
  reference: z.string().min(1).max(200),
  kind: DeniedKindSchema,
  /** The manifest digest judged, when known (signature refusals always know it). */
  digest: DigestSchema.optional(),
  mode: DenialModeSchema,
  reason: DenialReasonSchema,
  /** The rule that decided, 1-based, with its name (`rule` refusals). */
  rule: z.object({ index: z.number().int().min(1).max(10_000), name: z.string().max(64).optional() }).optional(),
  /** For a person: names the rule, or what the signature check found. */
  message: z.string().min(1).max(1000),
  /** Who asked: `access-token:<id>`, `anonymous`, or `warm-job:<id>`. The catalog adds the token's name. */
  client: z.string().min(1).max(100),
  /** Identical refusals this event stands for. */
  count: z.number().int().min(1).max(1_000_000),
  /** ISO-8601 time of the first of them. */
  at: z.string(),
});
export type PolicyDenied = z.infer<typeof PolicyDeniedSchema>;

/** The client name of an anonymous pull. */
export const ANONYMOUS_CLIENT = 'anonymous';
