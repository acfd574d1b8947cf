import { ANONYMOUS_CLIENT, NotFoundError, type PolicyDenied, type PullPolicy, ValidationError } from '@vreg/contracts';
import { pullPolicyProblems } from '@vreg/policy';
import type { CatalogStore } from '../ports/catalog-store.ts';
import type { Page, PageRequest } from './page.ts';
import type { PolicyDenial, PolicyDenialQuery, StoredPullPolicy } from './pull-policy.ts';

export interface PullPoliciesDeps {
  store: Pick<CatalogStore, 'registries' | 'pullPolicies' | 'policyDenials' | 'accessTokens'>;
  /** Tells every gateway the registry changed, so the new policy applies at once rather than when their cached registry expires. */
  changed(registryId: string): void;
}

/**
 * Pull policies: the admin use cases (GET/PUT/DELETE a registry's policy,
 * list refusals) and the recording of refusals the gateways and fetchers
 * report. A policy is checked whole before it is stored (`pullPolicyProblems`):
 * keys vreg cannot verify with (Ed25519, unreadable) are refused with the
 * reason, never stored to refuse every pull later.
 */
export class PullPolicies {
  readonly #deps: PullPoliciesDeps;

  constructor(deps: PullPoliciesDeps) {
    this.#deps = deps;
  }

  /** @throws NotFoundError (registry, or no policy) */
  async get(registryId: string): Promise<StoredPullPolicy> {
    await this.#registry(registryId);
    const policy = await this.#deps.store.pullPolicies.get(registryId);
    if (policy === undefined) throw new NotFoundError('registry has no pull policy', { registryId });
    return policy;
  }

  /** @throws NotFoundError (registry), ValidationError listing every problem */
  async put(registryId: string, policy: PullPolicy): Promise<StoredPullPolicy> {
    await this.#registry(registryId);
    const problems = pullPolicyProblems(policy);
    if (problems.length > 0) throw new ValidationError(`the pull policy is not usable: ${problems.join('; ')}`, { problems });
    const stored = await this.#deps.store.pullPolicies.put(registryId, policy);
    this.#deps.changed(registryId);
    return stored;
  }

  /** @throws NotFoundError (registry, or no policy) */
  async delete(registryId: string): Promise<void> {
    await this.#registry(registryId);
    if (!(await this.#deps.store.pullPolicies.delete(registryId))) throw new NotFoundError('registry has no pull policy', { registryId });
    this.#deps.changed(registryId);
  }

  /** The refusals of one registry, newest first. @throws NotFoundError */
  async listDenials(registryId: string, page: PageRequest): Promise<Page<PolicyDenial>> {
    await this.#registry(registryId);
    return this.#deps.store.policyDenials.list({ registryIds: [registryId] }, page);
  }

  /** The refusals of every registry (or of those listed), newest first. */
  async listAllDenials(query: PolicyDenialQuery, page: PageRequest): Promise<Page<PolicyDenial>> {
    return this.#deps.store.policyDenials.list(query, page);
  }

  /** Records a reported refusal, naming the access token when the client was one; idempotent by event id. */
  async record(event: PolicyDenied): Promise<void> {
    const tokenName = await this.#tokenNameOf(event.client);
    await this.#deps.store.policyDenials.add({
      id: event.eventId,
      registryId: event.registryId,
      image: event.image,
      reference: event.reference,
      kind: event.kind,
      ...(event.digest === undefined ? {} : { digest: event.digest }),
      mode: event.mode,
      reason: event.reason,
      ...(event.rule === undefined ? {} : { rule: event.rule }),
      message: event.message,
      client: event.client,
      ...(tokenName === undefined ? {} : { tokenName }),
      count: event.count,
      at: new Date(event.at),
    });
  }

  async #tokenNameOf(client: string): Promise<string | undefined> {
    if (client === ANONYMOUS_CLIENT) return undefined;
    const id = /^access-token:(\d{1,15})$/.exec(client)?.[1];
    return id === undefined ? undefined : (await this.#deps.store.accessTokens.get(id))?.name;
  }

  async #registry(registryId: string): Promise<void> {
    if ((await this.#deps.store.registries.get(registryId)) === undefined) throw new NotFoundError('registry not found', { registryId });
  }
}
