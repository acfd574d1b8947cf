/** Fields of a Bearer challenge (RFC 6750 §3, Docker token authentication spec). */
export interface BearerChallenge {
  /** `<external URL>/v2/token`. */
  realm: string;
  service: string;
  /** `repository:<name>:pull` when a repository was asked for. */
  scope?: string;
  /** `invalid_token` (a token was presented and refused) or `insufficient_scope`. */
  error?: 'invalid_token' | 'insufficient_scope';
}

const quote = (value: string): string => `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;

/** The `WWW-Authenticate` value of a 401 on `/v2`. */
export function bearerChallenge(c: BearerChallenge): string {
  const params: Array<[string, string]> = [
    ['realm', c.realm],
    ['service', c.service],
  ];
  if (c.scope !== undefined) params.push(['scope', c.scope]);
  if (c.error !== undefined) params.push(['error', c.error]);
  return `Bearer ${params.map(([k, v]) => `${k}=${quote(v)}`).join(',')}`;
}
