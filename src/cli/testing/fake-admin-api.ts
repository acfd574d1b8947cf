import type { FetchLike } from '../admin-api-client.ts';

/** One answer of the fake admin API. */
export interface FakeAnswer {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
}

type Handler = (request: { method: string; path: string; query: URLSearchParams; body: unknown }) => FakeAnswer;

/**
 * A scripted admin API for unit tests: `on('GET /jobs/7', ...)` answers by
 * method and path (query aside); a list of answers is handed out in turn,
 * the last one repeating. Every request is recorded. Anything unscripted is
 * the server's 404 `route not found`.
 */
export class FakeAdminApi {
  readonly requests: Array<{ method: string; path: string; query: string; body: unknown }> = [];
  readonly #routes = new Map<string, Handler>();

  on(route: string, answer: FakeAnswer | FakeAnswer[] | Handler): this {
    if (typeof answer === 'function') this.#routes.set(route, answer);
    else {
      const queue = Array.isArray(answer) ? [...answer] : [answer];
      this.#routes.set(route, () => (queue.length > 1 ? (queue.shift() as FakeAnswer) : (queue[0] as FakeAnswer)));
    }
    return this;
  }

  readonly fetch: FetchLike = async (url, init) => {
    const u = new URL(url);
    const path = u.pathname.replace(/^\/api\/v1/, '');
    const body = init.body === undefined ? undefined : JSON.parse(init.body);
    this.requests.push({ method: init.method, path, query: u.search, body });
    const handler = this.#routes.get(`${init.method} ${path}`);
    const answer = handler?.({ method: init.method, path, query: u.searchParams, body }) ?? {
      status: 404,
      body: { errors: [{ code: 'NOT_FOUND', message: 'route not found', detail: { method: init.method } }] },
    };
    return new Response(answer.body === undefined ? null : JSON.stringify(answer.body), {
      status: answer.status ?? 200,
      headers: { 'content-type': 'application/json', ...answer.headers },
    });
  };
}

/** A job as the API returns it, with defaults for what a test does not care about. */
export function fakeJob(
  patch: Partial<{
    id: string;
    kind: string;
    state: string;
    registry_id: string | null;
    params: object;
    progress: object;
    result: object | null;
    errors: string[];
  }> = {},
) {
  return {
    id: '7',
    kind: 'warm',
    state: 'queued',
    registry_id: '1',
    params: {},
    progress: { objects_done: 0, objects_total: null, bytes_done: 0, bytes_total: null },
    result: null,
    errors: [],
    created_at: '2030-01-01T00:00:00.000Z',
    started_at: null,
    finished_at: null,
    ...patch,
  };
}
