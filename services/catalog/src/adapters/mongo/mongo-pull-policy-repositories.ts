import type { DenialMode, DenialReason, DeniedKind, PullPolicy } from '@vreg/contracts';
import type { Collection, Db } from 'mongodb';
import { parseNumericId } from '../../domain/numeric-id.ts';
import { type Page, type PageRequest, pageOffset } from '../../domain/page.ts';
import type { PolicyDenial, PolicyDenialQuery, PolicyDenialRetention, StoredPullPolicy } from '../../domain/pull-policy.ts';
import type { PolicyDenialRepository } from '../../ports/policy-denial-repository.ts';
import type { PullPolicyRepository } from '../../ports/pull-policy-repository.ts';
import { Collections, isDuplicateKey } from './mongo-documents.ts';

export interface PullPolicyDocument {
  registry_id: number;
  /** The policy as JSON text: key PEMs and patterns stay byte-exact, and no field name can clash with a query operator. */
  policy: string;
  created_at: Date;
  updated_at: Date;
}

export interface PolicyDenialDocument {
  id: string;
  registry_id: number;
  image: string;
  reference: string;
  kind: string;
  digest: string | null;
  mode: string;
  reason: string;
  rule_index: number | null;
  rule_name: string | null;
  message: string;
  client: string;
  token_name: string | null;
  count: number;
  at: Date;
}

const NO_ID = { projection: { _id: 0 } } as const;

/** Pull policies in `pull_policies` (unique `registry_id`). */
export class MongoPullPolicyRepository implements PullPolicyRepository {
  readonly #policies: Collection<PullPolicyDocument>;

  constructor(db: Db) {
    this.#policies = db.collection<PullPolicyDocument>(Collections.pullPolicies);
  }

  async get(registryId: string): Promise<StoredPullPolicy | undefined> {
    const n = parseNumericId(registryId);
    if (n === undefined) return undefined;
    const doc = await this.#policies.findOne({ registry_id: n }, NO_ID);
    return doc === null
      ? undefined
      : { registryId, policy: JSON.parse(doc.policy) as PullPolicy, createdAt: doc.created_at, updatedAt: doc.updated_at };
  }

  async put(registryId: string, policy: PullPolicy): Promise<StoredPullPolicy> {
    const n = parseNumericId(registryId);
    if (n === undefined) throw new TypeError(`not a registry id: ${registryId}`);
    const now = new Date();
    const createdAt = (await this.get(registryId))?.createdAt ?? now;
    await this.#policies.replaceOne(
      { registry_id: n },
      { registry_id: n, policy: JSON.stringify(policy), created_at: createdAt, updated_at: now },
      { upsert: true },
    );
    return { registryId, policy: structuredClone(policy), createdAt, updatedAt: now };
  }

  async delete(registryId: string): Promise<boolean> {
    const n = parseNumericId(registryId);
    if (n === undefined) return false;
    return (await this.#policies.deleteOne({ registry_id: n })).deletedCount > 0;
  }
}

function toDenial(doc: PolicyDenialDocument): PolicyDenial {
  return {
    id: doc.id,
    registryId: String(doc.registry_id),
    image: doc.image,
    reference: doc.reference,
    kind: doc.kind as DeniedKind,
    ...(doc.digest == null ? {} : { digest: doc.digest }),
    mode: doc.mode as DenialMode,
    reason: doc.reason as DenialReason,
    ...(doc.rule_index == null ? {} : { rule: { index: doc.rule_index, ...(doc.rule_name == null ? {} : { name: doc.rule_name }) } }),
    message: doc.message,
    client: doc.client,
    ...(doc.token_name == null ? {} : { tokenName: doc.token_name }),
    count: doc.count,
    at: doc.at,
  };
}

/** Refusal records in `policy_denials` (unique `id`, the event id), newest first by (at, id). */
export class MongoPolicyDenialRepository implements PolicyDenialRepository {
  readonly #denials: Collection<PolicyDenialDocument>;

  constructor(db: Db) {
    this.#denials = db.collection<PolicyDenialDocument>(Collections.policyDenials);
  }

  async add(d: PolicyDenial): Promise<void> {
    try {
      await this.#denials.insertOne({
        id: d.id,
        registry_id: Number(d.registryId),
        image: d.image,
        reference: d.reference,
        kind: d.kind,
        digest: d.digest ?? null,
        mode: d.mode,
        reason: d.reason,
        rule_index: d.rule?.index ?? null,
        rule_name: d.rule?.name ?? null,
        message: d.message,
        client: d.client,
        token_name: d.tokenName ?? null,
        count: d.count,
        at: d.at,
      });
    } catch (err) {
      // A redelivered event: the record is there already.
      if (!isDuplicateKey(err)) throw err;
    }
  }

  async list(query: PolicyDenialQuery, page: PageRequest): Promise<Page<PolicyDenial>> {
    const ids = query.registryIds?.map(parseNumericId).filter((n): n is number => n !== undefined);
    if (ids !== undefined && ids.length === 0) return { items: [], total: 0 };
    const filter = ids === undefined ? {} : { registry_id: { $in: ids } };
    const [docs, total] = await Promise.all([
      this.#denials.find(filter, NO_ID).sort({ at: -1, id: -1 }).skip(pageOffset(page)).limit(page.perPage).toArray(),
      this.#denials.countDocuments(filter),
    ]);
    return { items: docs.map(toDenial), total };
  }

  async prune(retention: PolicyDenialRetention, now: Date): Promise<number> {
    let removed = (await this.#denials.deleteMany({ at: { $lt: new Date(now.getTime() - retention.maxAgeMs) } })).deletedCount;
    // The newest record past the limit, and everything older than it.
    const [edge] = await this.#denials.find({}, NO_ID).sort({ at: -1, id: -1 }).skip(retention.maxRecords).limit(1).toArray();
    if (edge !== undefined) {
      removed += (await this.#denials.deleteMany({ $or: [{ at: { $lt: edge.at } }, { at: edge.at, id: { $lte: edge.id } }] })).deletedCount;
    }
    return removed;
  }

  async deleteByRegistry(registryId: string): Promise<number> {
    const n = parseNumericId(registryId);
    if (n === undefined) return 0;
    return (await this.#denials.deleteMany({ registry_id: n })).deletedCount;
  }
}
