/** An error answer of the admin API, or a server that could not be reached. */
export class AdminApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'AdminApiError';
  }
}

export type FetchLike = (url: string, init: { method: string; headers: Record<string, string>; body?: string }) => Promise<Response>;

/** The admin API (`/api/v1`) as the CLI uses it: JSON in, JSON out, errors as `AdminApiError`. */
export class AdminApiClient {
  readonly #base: string;
  readonly #token: string;
  readonly #fetch: FetchLike;

  constructor(baseUrl: string, token: string, fetchImpl: FetchLike = fetch) {
    this.#base = `${baseUrl.replace(/\/+$/, '')}/api/v1`;
    this.#token = token;
    this.#fetch = fetchImpl;
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<{ body: T; headers: Headers }> {
    let res: Response;
    try {
      res = await this.#fetch(`${this.#base}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.#token}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (err) {
      throw new AdminApiError(0, 'UNREACHABLE', `cannot reach ${this.#base}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      throw new AdminApiError(res.status, 'BAD_RESPONSE', `${method} ${path}: HTTP ${res.status} with a body that is not JSON`);
    }
    if (!res.ok) {
      const first = (parsed as { errors?: Array<{ code?: string; message?: string }> } | undefined)?.errors?.[0];
      throw new AdminApiError(res.status, first?.code ?? `HTTP_${res.status}`, first?.message ?? `HTTP ${res.status}`);
    }
    return { body: parsed as T, headers: res.headers };
  }

  /** Every item of a paginated list, following `X-Next-Page`. */
  async listAll<T>(path: string): Promise<T[]> {
    const all: T[] = [];
    for (let page = 1; ; ) {
      const { body, headers } = await this.request<T[]>('GET', `${path}?page=${page}&per_page=100`);
      all.push(...body);
      const next = Number(headers.get('x-next-page') ?? '');
      if (!Number.isInteger(next) || next <= page) return all;
      page = next;
    }
  }
}
