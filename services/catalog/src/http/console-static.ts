import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';

export interface ConsoleStaticOptions {
  /** The console's build (packages/console/dist): index.html and assets/. */
  root: string;
}

/**
 * The file types a console build has; anything else under assets/ is
 * answered 404, so a stray file in the build directory is never served.
 */
const ASSET_TYPES = new Set(['.js', '.css', '.svg', '.png', '.ico', '.woff2', '.json', '.txt', '.map']);

/**
 * Same-origin files only, no inline script or style attribute injection
 * paths: the admin API is the only thing it talks to, and nobody may frame it.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

function secureHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CONTENT_SECURITY_POLICY)
    .header('x-frame-options', 'DENY')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cross-origin-opener-policy', 'same-origin');
}

const notFound = (reply: FastifyReply) => secureHeaders(reply).status(404).type('text/plain; charset=utf-8').send('not found\n');

/**
 * Serves the web console's static build with @fastify/static; register it
 * with `{ prefix: '/console' }`. Hashed files under `assets/` are cached for
 * a year (their names change with their content), served precompressed
 * (`.br`/`.gz` beside them, made by `npm run build:console`) to clients that
 * accept it; every other path is a client-side route and gets index.html,
 * revalidated on every load (`no-cache`, ETag and Last-Modified answer 304),
 * so a new build is picked up at once. Without a build it answers 503 with
 * how to make one.
 */
export function consoleStatic(options: ConsoleStaticOptions): FastifyPluginAsync {
  const root = normalize(options.root);
  return async (fastify) => {
    // Serves index.html through the assets' plugin (reply.sendFile): ETag, Last-Modified and 304 come with it.
    await fastify.register(async (assets) => {
      await assets.register(fastifyStatic, {
        root: join(root, 'assets'),
        prefix: '/assets/',
        index: false,
        dotfiles: 'deny',
        preCompressed: true,
        immutable: true,
        maxAge: '365d',
        // index.html goes out through sendFile from the build's root; from assets/, only the known types.
        allowedPath: (path, fileRoot) => (fileRoot === root ? path.endsWith('index.html') : ASSET_TYPES.has(extname(path))),
        setHeaders: (reply) => void secureHeaders(reply),
      });
      assets.setNotFoundHandler((_request, reply) => notFound(reply));
      // @fastify/send refuses a path leaving the root with 403: answer it as any other missing file.
      assets.setErrorHandler((err: { statusCode?: number }, _request, reply) => {
        const status = err.statusCode ?? 500;
        if (status === 403 || status === 404) return notFound(reply);
        return secureHeaders(reply)
          .status(status)
          .type('text/plain; charset=utf-8')
          .send(status >= 500 ? 'error\n' : 'bad request\n');
      });

      const sendIndex = async (reply: FastifyReply) => {
        if (
          !(await stat(join(root, 'index.html')).then(
            (s) => s.isFile(),
            () => false,
          ))
        ) {
          return secureHeaders(reply)
            .status(503)
            .type('text/plain; charset=utf-8')
            .send('The console is not built: run `npm run build:console`.\n');
        }
        return secureHeaders(reply).header('cache-control', 'no-cache').sendFile('index.html', root, { cacheControl: false });
      };
      // `/console` without the slash: relative asset URLs need the directory form.
      assets.get('', async (_request, reply) => reply.redirect('/console/', 308));
      assets.route({ method: 'GET', url: '/', prefixTrailingSlash: 'slash', handler: async (_request, reply) => sendIndex(reply) });
      assets.get('/*', async (request, reply) => {
        // Only a missing asset gets here from assets/ (the static route answered the rest): a 404, not the app.
        if ((request.params as { '*': string })['*'].startsWith('assets/')) return notFound(reply);
        return sendIndex(reply);
      });
    });
  };
}

/**
 * Where the console's build is: packages/console/dist when running from the
 * sources (tsx), else console/ beside the bundled entry (deploy/build.mjs
 * copies it there). The first that holds an index.html, else the first.
 */
export function defaultConsoleRoot(): string {
  const candidates = [fileURLToPath(new URL('../../../../packages/console/dist', import.meta.url))];
  if (process.argv[1] !== undefined) candidates.push(join(dirname(process.argv[1]), 'console'));
  return candidates.find((dir) => existsSync(join(dir, 'index.html'))) ?? (candidates[0] as string);
}
