import type { DenialMode, DenialReason, DeniedKind, PullPolicy } from '@vreg/contracts';
import type Database from 'better-sqlite3';
import { parseNumericId } from '../../domain/numeric-id.ts';
import { type Page, type PageRequest, pageOffset } from '../../domain/page.ts';
import type { PolicyDenial, PolicyDenialQuery, PolicyDenialRetention, StoredPullPolicy } from '../../domain/pull-policy.ts';
import type { PolicyDenialRepository } from '../../ports/policy-denial-repository.ts';
import type { PullPolicyRepository } from '../../ports/pull-policy-repository.ts';
import { fromSqlTime, toSqlTime } from './sqlite-schema.ts';

interface PolicyRow {
  registry_id: number;
  policy: string;
  created_at: string;
  updated_at: string;
}

/** Pull policies in `pull_policies`, the policy as one JSON document. */
export class SqlitePullPolicyRepository implements PullPolicyRepository {
  readonly #db: Database.Database;

  constructor(db: Database.Database) {
    this.#db = db;
  }

  async get(registryId: string): Promise<StoredPullPolicy | undefined> {
    return this.#get(registryId);
  }

  async put(registryId: string, policy: PullPolicy): Promise<StoredPullPolicy> {
    const id = parseNumericId(registryId);
    if (id === undefined) throw new TypeError(`not a registry id: ${registryId}`);
    return this.#db.transaction(() => {
      const now = new Date();
      const createdAt = this.#get(registryId)?.createdAt ?? now;
      this.#db
        .prepare('INSERT OR REPLACE INTO pull_policies (registry_id, policy, created_at, updated_at) VALUES (?, ?, ?, ?)')
        .run(id, JSON.stringify(policy), toSqlTime(createdAt), toSqlTime(now));
      return { registryId, policy: structuredClone(policy), createdAt, updatedAt: now };
    })();
  }

  async delete(registryId: string): Promise<boolean> {
    const id = parseNumericId(registryId);
    if (id === undefined) return false;
    return this.#db.prepare('DELETE FROM pull_policies WHERE registry_id = ?').run(id).changes > 0;
  }

  #get(registryId: string): StoredPullPolicy | undefined {
    const id = parseNumericId(registryId);
    if (id === undefined) return undefined;
    const row = this.#db.prepare<[number], PolicyRow>('SELECT * FROM pull_policies WHERE registry_id = ?').get(id);
    return row === undefined
      ? undefined
      : {
          registryId,
          policy: JSON.parse(row.policy) as PullPolicy,
          createdAt: fromSqlTime(row.created_at),
          updatedAt: fromSqlTime(row.updated_at),
        };
  }
}

interface DenialRow {
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
  at: string;
}

function toDenial(row: DenialRow): PolicyDenial {
  return {
    id: row.id,
    registryId: String(row.registry_id),
    image: row.image,
    reference: row.reference,
    kind: row.kind as DeniedKind,
    ...(row.digest === null ? {} : { digest: row.digest }),
    mode: row.mode as DenialMode,
    reason: row.reason as DenialReason,
    ...(row.rule_index === null ? {} : { rule: { index: row.rule_index, ...(row.rule_name === null ? {} : { name: row.rule_name }) } }),
    message: row.message,
    client: row.client,
    ...(row.token_name === null ? {} : { tokenName: row.token_name }),
    count: row.count,
    at: fromSqlTime(row.at),
  };
}

/** Refusal records in `policy_denials`, newest first by (at, id). */
export class SqlitePolicyDenialRepository implements PolicyDenialRepository {
  readonly #db: Database.Database;

  constructor(db: Database.Database) {
    this.#db = db;
  }

  async add(d: PolicyDenial): Promise<void> {
    this.#db
      .prepare(
        `INSERT OR IGNORE INTO policy_denials
         (id, registry_id, image, reference, kind, digest, mode, reason, rule_index, rule_name, message, client, token_name, count, at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        d.id,
        Number(d.registryId),
        d.image,
        d.reference,
        d.kind,
        d.digest ?? null,
        d.mode,
        d.reason,
        d.rule?.index ?? null,
        d.rule?.name ?? null,
        d.message,
        d.client,
        d.tokenName ?? null,
        d.count,
        toSqlTime(d.at),
      );
  }

  async list(query: PolicyDenialQuery, page: PageRequest): Promise<Page<PolicyDenial>> {
    const ids = query.registryIds?.map(parseNumericId).filter((n): n is number => n !== undefined);
    if (ids !== undefined && ids.length === 0) return { items: [], total: 0 };
    const where = ids === undefined ? '' : `WHERE registry_id IN (${ids.map(() => '?').join(', ')})`;
    const args = ids ?? [];
    const rows = this.#db
      .prepare<unknown[], DenialRow>(`SELECT * FROM policy_denials ${where} ORDER BY at DESC, id DESC LIMIT ? OFFSET ?`)
      .all(...args, page.perPage, pageOffset(page));
    const total = (this.#db.prepare<unknown[], { n: number }>(`SELECT count(*) AS n FROM policy_denials ${where}`).get(...args)?.n ??
      0) as number;
    return { items: rows.map(toDenial), total };
  }

  async prune(retention: PolicyDenialRetention, now: Date): Promise<number> {
    return this.#db.transaction(() => {
      const old = this.#db
        .prepare('DELETE FROM policy_denials WHERE at < ?')
        .run(toSqlTime(new Date(now.getTime() - retention.maxAgeMs))).changes;
      const over = this.#db
        .prepare('DELETE FROM policy_denials WHERE id IN (SELECT id FROM policy_denials ORDER BY at DESC, id DESC LIMIT -1 OFFSET ?)')
        .run(retention.maxRecords).changes;
      return old + over;
    })();
  }

  async deleteByRegistry(registryId: string): Promise<number> {
    const id = parseNumericId(registryId);
    if (id === undefined) return 0;
    return this.#db.prepare('DELETE FROM policy_denials WHERE registry_id = ?').run(id).changes;
  }
}
