import type { EventBus } from '@vreg/bus';
import { ErrorCodes, hasCode } from '@vreg/contracts';
import { FailureLimiter } from '@vreg/secrets';
import type { FastifyPluginAsync } from 'fastify';
import { BusAccessTokenVerifier, type TokenSealer } from '../adapters/bus/bus-access-token-verifier.ts';
import type { GatewayPullConfig } from '../config.ts';
import { tokenRoutes } from '../http/token-routes.ts';
import type { CatalogClient } from '../ports/catalog-client.ts';
import type { MirrorDirectory } from '../ports/mirror-directory.ts';
import { AccessTokenLogin } from './access-token-login.ts';
import type { VisibilityLookup } from './grant-policy.ts';
import { PullGuard } from './pull-guard.ts';
import { RegistryTokens } from './registry-tokens.ts';
import type { TokenKeyRing } from './token-key-ring.ts';

/** Addresses and usernames whose failures are remembered at most, per limiter. */
const LIMITER_MAX_KEYS = 100_000;

/** The gateway's access control: the guard of the pull routes and the token endpoint. */
export interface AccessControl {
  guard: PullGuard;
  /** `GET|POST /token`; register inside the `/v2` prefix. */
  tokenRoutes: FastifyPluginAsync;
}

/** Wires access control from the config, the signing keys and the catalog. */
export function buildAccessControl(
  config: GatewayPullConfig,
  deps: { bus: EventBus; catalog: CatalogClient; mirrors: MirrorDirectory; signingKeys: TokenKeyRing; sealer: TokenSealer },
): AccessControl {
  const tokens = new RegistryTokens(deps.signingKeys, {
    issuer: config.VREG_TOKEN_ISSUER,
    service: config.VREG_TOKEN_SERVICE,
    ttlSeconds: config.VREG_TOKEN_TTL_SECONDS,
  });
  const visibilityOf: VisibilityLookup = async (registryId) => {
    try {
      return (await deps.catalog.resolveRegistry(registryId)).visibility ?? 'private';
    } catch (err) {
      if (hasCode(err, ErrorCodes.nameUnknown)) return undefined;
      throw err;
    }
  };
  const window = { windowSeconds: config.VREG_AUTH_FAILURE_WINDOW_SECONDS, maxKeys: LIMITER_MAX_KEYS };
  const login = new AccessTokenLogin({
    verifier: new BusAccessTokenVerifier(deps.bus, deps.sealer, { timeoutMs: config.VREG_CATALOG_TIMEOUT_MS }),
    addressFailures: new FailureLimiter({ burst: config.VREG_AUTH_FAILURES_PER_ADDRESS, ...window }),
    usernameFailures: new FailureLimiter({ burst: config.VREG_AUTH_FAILURES_PER_USERNAME, ...window }),
  });
  const guard = new PullGuard({
    tokens,
    catalog: deps.catalog,
    login,
    ...(config.VREG_EXTERNAL_URL === undefined ? {} : { externalUrl: config.VREG_EXTERNAL_URL }),
  });
  const options = { tokens, login, lookups: { visibilityOf, mirrorOf: (host: string) => deps.mirrors.registryFor(host) } };
  return {
    guard,
    tokenRoutes: async (app) => {
      await app.register(tokenRoutes, options);
    },
  };
}
