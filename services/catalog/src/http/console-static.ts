import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';

export interface ConsoleStaticOptions {
  /** The console's build (packages/console/dist): index.html and assets/. */
  root: string;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

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

/**
 * Serves the web console's static build; register it with `{ prefix: '/console' }`.
 * Hashed files under `assets/` are cached for a year (their names change with
 * their content); every other path is a client-side route and gets
 * index.html, never cached, so a new build is picked up at once. Without a
 * build it answers 503 with how to make one.
 */
export function consoleStatic(options: ConsoleStaticOptions): FastifyPluginAsync {
  const root = normalize(options.root);
  return async (fastify) => {
    const sendIndex = async (reply: FastifyReply) => {
      const html = await readFile(join(root, 'index.html')).catch(() => undefined);
      if (html === undefined) {
        return secureHeaders(reply)
          .status(503)
          .type('text/plain; charset=utf-8')
          .send('The console is not built: run `npm run build:console`.\n');
      }
      return secureHeaders(reply)
        .header('cache-control', 'no-cache')
        .type(CONTENT_TYPES['.html'] as string)
        .send(html);
    };

    // `/console` without the slash: relative asset URLs need the directory form.
    fastify.get('', async (_request, reply) => reply.redirect('/console/', 308));
    fastify.route({ method: 'GET', url: '/', prefixTrailingSlash: 'slash', handler: async (_request, reply) => sendIndex(reply) });
    fastify.get('/*', async (request, reply) => {
      const rest = (request.params as { '*': string })['*'];
      if (rest.startsWith('assets/')) {
        const file = normalize(join(root, rest));
        const type = CONTENT_TYPES[extname(file)];
        // Never outside the build, never a directory, only known types.
        if (
          !file.startsWith(root + sep) ||
          type === undefined ||
          !(await stat(file).then(
            (s) => s.isFile(),
            () => false,
          ))
        ) {
          return secureHeaders(reply).status(404).type('text/plain; charset=utf-8').send('not found\n');
        }
        return secureHeaders(reply)
          .header('cache-control', 'public, max-age=31536000, immutable')
          .type(type)
          .send(await readFile(file));
      }
      return sendIndex(reply);
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
