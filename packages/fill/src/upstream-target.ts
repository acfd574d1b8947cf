import type { UpstreamView } from '@vreg/contracts';
import type { SecretBox } from '@vreg/secrets';
import type { UpstreamTarget } from '@vreg/upstream-client';

/** The upstream client's target, with the sealed password opened just for the request. */
export function toUpstreamTarget(upstream: UpstreamView, secrets: SecretBox): UpstreamTarget {
  const target: UpstreamTarget = { url: upstream.url, ...(upstream.libraryPrefix ? { libraryPrefix: true } : {}) };
  if (upstream.username !== undefined) target.username = upstream.username;
  if (upstream.passwordSealed !== undefined) target.password = secrets.open(upstream.passwordSealed);
  return target;
}
