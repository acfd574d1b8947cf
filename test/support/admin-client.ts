/** A tiny client of the admin REST API, as a user's script would call it. */
export class AdminClient {
  constructor(
    readonly baseUrl: string,
    readonly token: string,
  ) {}

  async call<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await fetch(`${this.baseUrl}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  /**
   * Test registries are public unless a test asks for `private`, so pull
   * scenarios run without logging in. (The API's own default is private.)
   */
  async createRegistry(name: string, options: { visibility?: 'public' | 'private' } = {}): Promise<{ id: string }> {
    const res = await this.call<{ id: string }>('POST', '/registries', { name, visibility: options.visibility ?? 'public' });
    if (res.status !== 201 && res.status !== 200) throw new Error(`create registry: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  async addUpstream(
    registryId: string,
    upstream: { name: string; url: string; username?: string; password?: string; cache_validity_hours?: number; library_prefix?: boolean },
  ): Promise<{ id: string }> {
    const res = await this.call<{ id: string }>('POST', `/registries/${registryId}/upstreams`, upstream);
    if (res.status !== 201 && res.status !== 200) throw new Error(`add upstream: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  /** Every cache entry of an upstream, all pages. */
  async cacheEntries(upstreamId: string): Promise<Array<Record<string, unknown>>> {
    const all: Array<Record<string, unknown>> = [];
    for (let page = 1; page < 100; page++) {
      const res = await this.call<unknown>('GET', `/upstreams/${upstreamId}/cache_entries?page=${page}&per_page=100`);
      if (res.status !== 200) throw new Error(`cache entries: ${res.status} ${JSON.stringify(res.body)}`);
      const items = Array.isArray(res.body) ? res.body : ((res.body as { items?: unknown[] }).items ?? []);
      all.push(...(items as Array<Record<string, unknown>>));
      if (items.length < 100) break;
    }
    return all;
  }
}
