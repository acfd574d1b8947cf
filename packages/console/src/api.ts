/** The admin API as the console uses it: every call is `/api/v1/...` with the session's bearer token. */

/** What the API answers on failure: `{ errors: [{ code, message }] }`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

// Types only: nothing of @vreg/contracts (zod) reaches the bundle.
export type {
  AccessTokenJson as AccessToken,
  RegistryMirrorHostsJson as RegistryMirrorHosts,
  UpstreamJson as Upstream,
  UpstreamTestJson as UpstreamTestResult,
} from '@vreg/contracts/admin-api-json';

export interface Registry {
  id: string;
  name: string;
  description?: string;
  visibility: 'private' | 'public';
  max_stored_bytes?: number | null;
  created_at: string;
  updated_at: string;
}

export interface CacheEntry {
  id?: string;
  upstream_id: string;
  registry_id: string;
  relative_path: string;
  digest: string;
  content_type: string;
  size: number;
  downloads_count: number;
  downloaded_at?: string;
  status: string;
  created_at: string;
}

export interface Job {
  id: string;
  kind: 'purge' | 'cleanup' | 'gc' | 'warm';
  state: 'queued' | 'running' | 'succeeded' | 'failed';
  registry_id: string | null;
  progress: { objects_done: number; objects_total: number | null; bytes_done: number; bytes_total: number | null };
  result: Record<string, unknown> | null;
  errors: string[];
}

export interface CleanupPolicy {
  registry_id: string;
  enabled: boolean;
  keep_n_days_after_download: number;
  cadence: number;
  next_run_at?: string | null;
  last_run_at: string | null;
  last_run_deleted_entries_count: number;
  last_run_deleted_size: number;
  status: string;
  failure_message: string | null;
}

export interface PolicyRule {
  name?: string;
  action: 'allow' | 'deny';
  image: string;
  tags?: string[];
  platforms?: string[];
}

export type SignatureMode = 'off' | 'audit' | 'enforce';

/** A registry's pull policy as `GET /registries/:id/pull_policy` answers it. */
export interface PullPolicy {
  registry_id: string;
  default_action: 'allow' | 'deny';
  rules: PolicyRule[];
  signatures: {
    mode: SignatureMode;
    keys: Array<{ name: string; pem: string; fingerprint: string }>;
    scopes: Array<{ image: string; mode: SignatureMode }>;
    key_set_fingerprint: string;
    keyless?: KeylessTrust | null;
  };
  updated_at: string;
}

/** Keyless (certificate) signatures: the sigstore trusted root as stored, and who may sign. */
export interface KeylessTrust {
  trusted_root: string;
  identities: Array<{ subject: string; issuer: string }>;
}

/** One refused pull (or, in audit mode, one that would have been). */
export interface PolicyDenial {
  id: string;
  registry_id: string;
  image: string;
  reference: string;
  kind: string;
  digest: string | null;
  mode: 'enforce' | 'audit';
  reason: string;
  rule: { index: number; name: string | null } | null;
  message: string;
  client: string;
  token_name: string | null;
  count: number;
  at: string;
}

export interface Overview {
  window: string;
  hits: number;
  misses: number;
  hit_ratio: number;
  bytes_served_from_cache: number;
  bytes_fetched_upstream: number;
  top_images: Array<{ image: string; downloads: number }>;
  upstream_errors: Array<{ upstream_id: string | null; upstream: string; count: number; last_message: string; last_at: string }>;
  /** The same traffic over time: fixed intervals of `interval_seconds`, oldest first, adding up to the totals. */
  series: { interval_seconds: number; points: OverviewPoint[] };
}

export interface OverviewPoint {
  /** When the interval starts (ISO 8601). */
  start: string;
  hits: number;
  misses: number;
  /** null when the interval had no pulls. */
  hit_ratio: number | null;
  bytes_served_from_cache: number;
  bytes_fetched_upstream: number;
}

export interface Session {
  access: 'admin' | 'read';
  token_name?: string;
  /** The registries a restricted token reaches (whatever its scope); absent = every registry. */
  registry_ids?: string[];
  /** When the token expires: tokens it creates must expire no later. */
  expires_at?: string;
}

export interface ListPage<T> {
  items: T[];
  total: number;
  page: number;
  totalPages: number;
}

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

/** One signed-in session's client. A 401 calls `onUnauthorized` (the console signs out). */
export class Api {
  constructor(
    private readonly token: string,
    private readonly onUnauthorized: (message: string) => void = () => {},
  ) {}

  async call<T>(method: Method, path: string, body?: unknown): Promise<T> {
    return (await this.exchange<T>(method, path, body)).body;
  }

  /** A page of a list route, with the position the API sends in X-Total, X-Page and X-Total-Pages. */
  async list<T>(path: string): Promise<ListPage<T>> {
    const { body, headers } = await this.exchange<T[]>('GET', path);
    const number = (name: string, fallback: number) => {
      const value = Number(headers.get(name));
      return headers.get(name) === null || Number.isNaN(value) ? fallback : value;
    };
    return { items: body, total: number('x-total', body.length), page: number('x-page', 1), totalPages: number('x-total-pages', 1) };
  }

  private async exchange<T>(method: Method, path: string, body?: unknown): Promise<{ body: T; headers: Headers }> {
    let response: Response;
    try {
      response = await fetch(`/api/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        // Never a cookie: the token travels only in the header, so no other site can ride on a session (CSRF).
        credentials: 'omit',
        cache: 'no-store',
      });
    } catch (err) {
      throw new ApiError(0, 'NETWORK', `vreg did not answer: ${(err as Error).message}`);
    }
    if (response.status === 204) return { body: undefined as T, headers: response.headers };
    const text = await response.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (!response.ok) {
      const first = (json as { errors?: Array<{ code?: string; message?: string }> } | undefined)?.errors?.[0];
      const error = new ApiError(
        response.status,
        first?.code ?? `HTTP_${response.status}`,
        first?.message ?? (text.slice(0, 200) || `HTTP ${response.status}`),
      );
      if (response.status === 401) this.onUnauthorized(error.message);
      throw error;
    }
    return { body: json as T, headers: response.headers };
  }

  get<T>(path: string): Promise<T> {
    return this.call<T>('GET', path);
  }
}

/** Checks a token before the console keeps it: `GET /session`. */
export async function signIn(token: string): Promise<Session> {
  return new Api(token).get<Session>('/session');
}

export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return `${err.message} (${err.code})`;
  return err instanceof Error ? err.message : String(err);
}
