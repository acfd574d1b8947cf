/** An error answer of the admin API, or a server that could not be reached. */
export class AdminApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The line a shell user reads after `vreg: `. */
    readonly summary: string = `${code}: ${message}`,
  ) {
    super(message);
    this.name = 'AdminApiError';
  }
}

export type FetchLike = (url: string, init: { method: string; headers: Record<string, string>; body?: string }) => Promise<Response>;

interface ErrorItem {
  code?: string;
  message?: string;
  detail?: unknown;
}

/** `registry not found` + `{ registryId: '42' }` → `registry 42 not found`: what a shell user expects. */
function notFoundSummary(item: ErrorItem): string | undefined {
  const noun = /^(.+) not found$/.exec(item.message ?? '')?.[1];
  if (noun === undefined || noun === 'route') return undefined;
  const ids =
    typeof item.detail === 'object' && item.detail !== null
      ? Object.values(item.detail).filter((v) => typeof v === 'string' || typeof v === 'number')
      : [];
  return ids.length === 1 ? `${noun} ${String(ids[0])} not found` : `${noun} not found`;
}

/** The query string of the defined values, `?` included, or nothing. */
export function queryOf(params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}

/** Where the admin API is and the token for it. */
export interface AdminApiConnection {
  url: string;
  token: string;
}

/** The admin API (`/api/v1`) as the CLI uses it: JSON in, JSON out, errors as `AdminApiError`. */
export class AdminApiClient {
  readonly #connect: () => Promise<AdminApiConnection> | AdminApiConnection;
  readonly #fetch: FetchLike;
  #connection: AdminApiConnection | undefined;

  /**
   * `connection` may be a function, called at the first request: a command
   * then reports a mistake in its arguments before a missing login.
   */
  constructor(connection: AdminApiConnection | (() => Promise<AdminApiConnection> | AdminApiConnection), fetchImpl: FetchLike = fetch) {
    this.#connect = typeof connection === 'function' ? connection : () => connection;
    this.#fetch = fetchImpl;
  }

  /** The server's origin (VREG_URL or the saved login): what runtimes reach in the embedded mode. */
  async serverUrl(): Promise<string> {
    this.#connection ??= await this.#connect();
    return new URL(this.#connection.url).origin;
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<{ body: T; headers: Headers; status: number }> {
    this.#connection ??= await this.#connect();
    const base = `${this.#connection.url.replace(/\/+$/, '')}/api/v1`;
    let res: Response;
    try {
      res = await this.#fetch(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.#connection.token}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (err) {
      const message = `cannot reach ${base}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`;
      throw new AdminApiError(0, 'UNREACHABLE', message, message);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      const message = `${method} ${base}${path}: HTTP ${res.status} with a body that is not JSON (is VREG_URL the vreg server?)`;
      throw new AdminApiError(res.status, 'BAD_RESPONSE', message, message);
    }
    if (!res.ok) {
      const first: ErrorItem = (parsed as { errors?: ErrorItem[] } | undefined)?.errors?.[0] ?? {};
      const code = first.code ?? `HTTP_${res.status}`;
      const message = first.message ?? `HTTP ${res.status}`;
      if (res.status === 404 && message === 'route not found') {
        // The server predates the feature (or VREG_URL points elsewhere).
        throw new AdminApiError(404, code, message, `the server at ${base} has no ${method} ${path.split('?')[0]} (an older vreg?)`);
      }
      const summary = res.status === 404 ? notFoundSummary(first) : undefined;
      throw new AdminApiError(res.status, code, message, summary);
    }
    return { body: parsed as T, headers: res.headers, status: res.status };
  }

  /** Every item of a paginated list, following `X-Next-Page`; a list without pagination is one page. */
  async listAll<T>(path: string): Promise<T[]> {
    const all: T[] = [];
    const sep = path.includes('?') ? '&' : '?';
    for (let page = 1; ; ) {
      const { body, headers } = await this.request<T[] | { items?: T[] }>('GET', `${path}${sep}page=${page}&per_page=100`);
      all.push(...(Array.isArray(body) ? body : (body?.items ?? [])));
      const next = Number(headers.get('x-next-page') ?? '');
      if (!Number.isInteger(next) || next <= page) return all;
      page = next;
    }
  }
}
