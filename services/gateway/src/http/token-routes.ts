import { UnauthorizedError, ValidationError } from '@vreg/contracts';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { type AccessTokenLogin, basicCredentials, type Credentials } from '../auth/access-token-login.ts';
import { type GrantLookups, grantAccess, type Principal } from '../auth/grant-policy.ts';
import { type AccessEntry, ANONYMOUS_SUBJECT, type RegistryTokens } from '../auth/registry-tokens.ts';
import { parseScopes } from '../auth/repository-scope.ts';
import { ociErrorHandler } from './oci-error-handler.ts';

export interface TokenRoutesOptions {
  tokens: RegistryTokens;
  /** Checks access tokens presented as passwords, throttling repeated failures. */
  login: AccessTokenLogin;
  /** Registry visibility and mirror hosts, to decide what a token grants. */
  lookups: GrantLookups;
}

/** Longest form body accepted, bytes. */
const FORM_LIMIT = 16 * 1024;

const asList = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : typeof value === 'string' ? [value] : [];

/**
 * The token endpoint of the Docker token authentication spec, under `/v2`:
 *
 * - `GET /v2/token?service=&scope=...` with Basic credentials (any username,
 *   an access token as the password) or none (anonymous: public registries only);
 * - `POST /v2/token` (OAuth2 form: `grant_type=password` with username and
 *   password, or `grant_type=refresh_token` with an access token as the
 *   refresh token), which podman and containerd use.
 *
 * The answer is a short-lived JWT granting `pull` on each requested
 * repository the caller may read; the rest is dropped from the grant, not an
 * error. Wrong credentials are 401; after too many of them from one address
 * (IPv6: one /64), or for one username from one address, 429
 * TOOMANYREQUESTS with Retry-After, before the credentials are even
 * checked. Successful requests never count, and no one can throttle a
 * username for clients at another address.
 */
export const tokenRoutes: FastifyPluginAsync<TokenRoutesOptions> = async (app, options) => {
  app.setErrorHandler(ociErrorHandler);
  // A 401 names its scheme (RFC 9110 §11.6.1): here, Basic with an access token as the password.
  app.addHook('onSend', async (_request, reply, payload) => {
    if (reply.statusCode === 401) reply.header('WWW-Authenticate', `Basic realm="${options.tokens.service}"`);
    return payload;
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_LIMIT }, (_request, body, done) => {
    const form: Record<string, string | string[]> = {};
    for (const [key, value] of new URLSearchParams(body as string)) {
      const seen = form[key];
      form[key] = seen === undefined ? value : [...asList(seen), value];
    }
    done(null, form);
  });

  async function issue(request: FastifyRequest, credentials: Credentials | undefined, scopeValues: readonly string[]) {
    const principal: Principal = credentials === undefined ? { kind: 'anonymous' } : await options.login.authenticate(request, credentials);
    const access = await grantAccess(principal, parseScopes(scopeValues), options.lookups);
    const subject = principal.kind === 'anonymous' ? ANONYMOUS_SUBJECT : `access-token:${principal.token.tokenId}`;
    const issued = await options.tokens.issue(subject, access);
    request.log.info(
      {
        subject,
        tokenId: principal.kind === 'anonymous' ? undefined : principal.token.tokenId,
        granted: access.length,
        requested: scopeValues.length,
      },
      'registry token issued',
    );
    return { issued, access };
  }

  const sendNoStore = { 'cache-control': 'no-store', pragma: 'no-cache' };

  app.get<{ Querystring: Record<string, string | string[]> }>('/token', async (request, reply) => {
    // Any other scheme here is a client mistake, reported as one; empty Basic credentials are none.
    const header = request.headers.authorization;
    const credentials = header === undefined || /^Basic /i.test(header) ? basicCredentials(request) : 'malformed';
    if (credentials === 'malformed') {
      options.login.malformed(request);
      throw new UnauthorizedError('credentials must be HTTP Basic: any username and an access token as the password');
    }
    const { issued } = await issue(request, credentials, asList(request.query.scope));
    return reply
      .headers(sendNoStore)
      .send({ token: issued.token, access_token: issued.token, expires_in: issued.expiresIn, issued_at: issued.issuedAt });
  });

  app.post<{ Body: Record<string, string | string[]> | undefined }>('/token', async (request, reply) => {
    const form = request.body ?? {};
    const field = (name: string): string | undefined => asList(form[name])[0];
    const grantType = field('grant_type');
    let credentials: Credentials;
    if (grantType === 'password') {
      credentials = { username: field('username') ?? '', secret: field('password') ?? '' };
    } else if (grantType === 'refresh_token') {
      // vreg issues no refresh tokens of its own; an access token stands in
      // for one (an `identitytoken` in a client's auth config).
      credentials = { username: field('username') ?? '', secret: field('refresh_token') ?? '' };
    } else {
      throw new ValidationError('grant_type must be password or refresh_token');
    }
    const { issued, access } = await issue(request, credentials, asList(form.scope));
    return reply.headers(sendNoStore).send({
      access_token: issued.token,
      token: issued.token,
      token_type: 'Bearer',
      expires_in: issued.expiresIn,
      issued_at: issued.issuedAt,
      scope: access.map((a: AccessEntry) => `${a.type}:${a.name}:${a.actions.join(',')}`).join(' '),
    });
  });
};
