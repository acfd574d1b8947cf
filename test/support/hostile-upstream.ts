import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import fc from 'fast-check';

/**
 * An upstream registry of the test's own that answers each case the way the
 * case's plan says: wrong content types, huge headers, endless, truncated,
 * stalled, trickling or wrong bodies, lying lengths and digests, redirects (to good
 * bytes, in loops, to cloud metadata, to other schemes), hostile token
 * challenges. A case is named by its repository, `fuzz/c<n>/app`, so every
 * request for it (the gateway's, the fetcher's retry) gets the same answer.
 */

/** What the body of an answer is. */
export type HostileBody =
  | { kind: 'good' }
  | { kind: 'other-bytes'; bytes: Uint8Array }
  | { kind: 'html' }
  | { kind: 'text'; text: string }
  | { kind: 'endless' }
  | { kind: 'truncated' }
  | { kind: 'empty' }
  | { kind: 'stall'; afterBytes: number }
  /** The first KiB at once, then a byte every 100 ms (never idle long enough to time out) until the test calls `endTrickles()`. */
  | { kind: 'trickle' };

export type HostileRedirect = 'to-good' | 'loop' | 'metadata' | 'closed-port' | 'ftp' | 'relative' | 'empty' | 'huge';
export type HostileChallenge = 'garbage' | 'hostile-realm' | 'metadata-realm' | 'loop-realm';

/** How the upstream answers one case. */
export interface HostilePlan {
  status: number;
  /** undefined: no Content-Type header at all. */
  contentType: string | undefined;
  body: HostileBody;
  extraHeaders: Array<[string, string]>;
  digestHeader: 'right' | 'wrong' | 'none' | 'garbage';
  lengthHeader: 'right' | 'more' | 'less' | 'none';
  redirect: HostileRedirect | undefined;
  challenge: HostileChallenge | undefined;
  /** Milliseconds before the headers go out. */
  delayMs: number;
  /** Destroy the connection before answering anything. */
  reset: boolean;
}

/** The object a case asks for and the upstream holds when it behaves. */
export interface HostileObject {
  kind: 'manifest' | 'blob';
  bytes: Buffer;
  digest: string;
  mediaType: string;
}

const sha256 = (b: Uint8Array): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Content types an upstream might send, right or hostile. */
const CONTENT_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.index.v1+json',
  'application/octet-stream',
  'text/html',
  'text/html; charset=utf-8',
  'application/javascript',
  'image/svg+xml',
  'application/json',
  'application/vnd.docker.distribution.manifest.v1+prettyjws',
  '',
  'x'.repeat(3000),
  'application/vnd.oci.image.manifest.v1+json; charset=utf-8; x=\u0001',
];

const MALFORMED_JSON = [
  '{',
  '{"schemaVersion":2,',
  'null',
  '[]',
  '"manifest"',
  '{"schemaVersion":1,"fsLayers":[]}',
  '{"schemaVersion":2,"mediaType":"text/html","layers":"x"}',
  `${'['.repeat(5000)}${']'.repeat(5000)}`,
  `{"schemaVersion":2,"layers":[${Array.from({ length: 2000 }, () => '{"digest":"sha256:x"}').join(',')}]}`,
  '\u0000\u0001\u0002',
  '<?xml version="1.0"?><manifest/>',
  '{"__proto__":{"polluted":true},"schemaVersion":2}',
];

/** Plans, weighted so most cases hit one hostile trait at a time and some are wholly good (the control). */
export const hostilePlan: fc.Arbitrary<HostilePlan> = fc.record({
  status: fc.oneof(
    { weight: 12, arbitrary: fc.constant(200) },
    { weight: 3, arbitrary: fc.constantFrom(301, 302, 307, 308) },
    { weight: 3, arbitrary: fc.constantFrom(204, 206, 401, 403, 404, 418, 429, 500, 502, 503, 599) },
  ),
  contentType: fc
    .oneof({ weight: 3, arbitrary: fc.constant('right') }, { weight: 2, arbitrary: fc.constantFrom(...CONTENT_TYPES, undefined) })
    .map((c) => c as string | undefined),
  body: fc.oneof(
    { weight: 16, arbitrary: fc.constant<HostileBody>({ kind: 'good' }) },
    {
      weight: 4,
      arbitrary: fc.uint8Array({ minLength: 0, maxLength: 4096 }).map((bytes): HostileBody => ({ kind: 'other-bytes', bytes })),
    },
    { weight: 2, arbitrary: fc.constant<HostileBody>({ kind: 'html' }) },
    { weight: 4, arbitrary: fc.constantFrom(...MALFORMED_JSON).map((text): HostileBody => ({ kind: 'text', text })) },
    { weight: 2, arbitrary: fc.constant<HostileBody>({ kind: 'endless' }) },
    { weight: 2, arbitrary: fc.constant<HostileBody>({ kind: 'truncated' }) },
    { weight: 2, arbitrary: fc.constant<HostileBody>({ kind: 'empty' }) },
    // Each costs the rig's body idle timeout: rarer than the rest.
    { weight: 1, arbitrary: fc.nat({ max: 2048 }).map((afterBytes): HostileBody => ({ kind: 'stall', afterBytes })) },
  ),
  extraHeaders: fc.oneof(
    { weight: 6, arbitrary: fc.constant<Array<[string, string]>>([]) },
    {
      weight: 1,
      arbitrary: fc.constantFrom<Array<[string, string]>>(
        [['x-pad', 'a'.repeat(70_000)]],
        Array.from({ length: 300 }, (_, i): [string, string] => [`x-h${i}`, 'v'.repeat(100)]),
        [['etag', `"${'e'.repeat(20_000)}"`]],
        [['set-cookie', 'session=evil; Domain=127.0.0.1; Path=/']],
        [['content-disposition', 'attachment; filename="../../etc/passwd"']],
        [['retry-after', '-5']],
        [['retry-after', '99999999999999999999']],
        [['x-content-type-options', 'sniff']],
      ),
    },
  ),
  digestHeader: fc.constantFrom('right', 'right', 'right', 'wrong', 'none', 'garbage'),
  lengthHeader: fc.constantFrom('right', 'right', 'right', 'right', 'more', 'less', 'none'),
  redirect: fc.oneof(
    {
      weight: 1,
      arbitrary: fc.constantFrom<HostileRedirect>('to-good', 'loop', 'metadata', 'closed-port', 'ftp', 'relative', 'empty', 'huge'),
    },
    { weight: 1, arbitrary: fc.constant(undefined) },
  ),
  challenge: fc.oneof(
    { weight: 1, arbitrary: fc.constantFrom<HostileChallenge>('garbage', 'hostile-realm', 'metadata-realm', 'loop-realm') },
    { weight: 9, arbitrary: fc.constant(undefined) },
  ),
  delayMs: fc.oneof({ weight: 30, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 50 }) }),
  reset: fc.oneof({ weight: 40, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
});

/** A plan with nothing hostile in it: the upstream serves the object as a registry would. */
export function goodPlan(): HostilePlan {
  return {
    status: 200,
    contentType: 'right',
    body: { kind: 'good' },
    extraHeaders: [],
    digestHeader: 'right',
    lengthHeader: 'right',
    redirect: undefined,
    challenge: undefined,
    delayMs: 0,
    reset: false,
  };
}

/** True when the plan serves the object exactly as a registry would (only a redirect to good bytes allowed). */
export function isGoodPlan(plan: HostilePlan): boolean {
  return (
    plan.status === 200 &&
    plan.contentType === 'right' &&
    plan.body.kind === 'good' &&
    plan.extraHeaders.length === 0 &&
    plan.digestHeader === 'right' &&
    plan.lengthHeader === 'right' &&
    (plan.redirect === undefined || plan.redirect === 'to-good') &&
    plan.challenge === undefined &&
    !plan.reset
  );
}

/** Bytes a trickling answer sends at once, before its drip. */
const TRICKLE_HEAD = 1024;

/** Cap of an endless body, so a vreg that never stops reading cannot fill the disk: far above the test's blob limit. */
const ENDLESS_CAP = 16 << 20;

interface Case {
  plan: HostilePlan;
  object: HostileObject;
}

/** The hostile upstream server: register a case, then let vreg ask for it. */
export class HostileUpstream {
  readonly #cases = new Map<string, Case>();
  readonly #sockets = new Set<Socket>();
  /** Requests seen, by path, for tests that count them. */
  readonly requests: string[] = [];
  /** Trickling answers still open, each with the way to finish it. */
  readonly #trickles = new Set<{ finish: () => void }>();
  /** Bytes the trickling answers dripped after their first KiB, in all. */
  trickledBytes = 0;
  /** Trickling answers the other side closed before the test finished them (a fill's deadline, an abort). */
  tricklesCut = 0;
  #server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.#server = createServer((req, res) => void this.#answer(req, res));
    this.#server.on('connection', (s) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
    await new Promise<void>((r) => this.#server?.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((r) => this.#server?.close(() => r()) ?? r());
  }

  /** Trickling answers still open. */
  get trickling(): number {
    return this.#trickles.size;
  }

  /** Sends every open trickling answer the rest of its bytes and ends it: the fills behind them can complete. */
  endTrickles(): void {
    for (const t of [...this.#trickles]) t.finish();
  }

  /** Registers case `n`: its repository is `fuzz/c<n>/app`. */
  addCase(n: number, plan: HostilePlan, object: HostileObject): string {
    this.#cases.set(`c${n}`, { plan, object });
    return `fuzz/c${n}/app`;
  }

  async #answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    this.requests.push(url);
    if (url === '/v2/' || url === '/v2') {
      res.writeHead(200, { 'content-type': 'application/json', 'docker-distribution-api-version': 'registry/2.0' }).end('{}');
      return;
    }
    const match = /\/(c\d+)\//.exec(url);
    const found = match ? this.#cases.get(match[1] as string) : undefined;
    if (found === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"NAME_UNKNOWN"}]}');
      return;
    }
    const { plan, object } = found;
    const kind = url.startsWith('/token') ? 'token' : url.startsWith('/good/') ? 'good' : 'object';
    if (plan.reset && kind === 'object') {
      req.socket.destroy();
      return;
    }
    if (plan.delayMs > 0) await new Promise((r) => setTimeout(r, plan.delayMs));
    if (kind === 'token') return this.#token(plan, url, res);
    if (kind === 'good') return this.#send(res, req.method ?? 'GET', goodPlan(), object);
    if (plan.challenge !== undefined && !/[?&]authed=1/.test(url) && req.headers.authorization === undefined) {
      const case_ = match?.[1] as string;
      const realm = {
        garbage: 'Bearer realm=,,,service="x""" scope',
        'hostile-realm': `Bearer realm="${this.url}/token/${case_}/t",service="hostile",scope="repository:x:pull"`,
        'metadata-realm': 'Bearer realm="http://169.254.169.254/latest/meta-data/iam",service="x"',
        'loop-realm': `Bearer realm="${this.url}/token/${case_}/loop",service="x"`,
      }[plan.challenge];
      res.writeHead(401, { 'www-authenticate': realm, 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED"}]}');
      return;
    }
    if (plan.redirect !== undefined && plan.status >= 200 && plan.status < 400) {
      const location = {
        'to-good': `${this.url}/good/${match?.[1]}/object`,
        loop: url,
        metadata: 'http://169.254.169.254/latest/meta-data/',
        'closed-port': 'http://127.0.0.1:1/v2/',
        ftp: 'ftp://127.0.0.1/x',
        relative: '../../../../../etc/passwd',
        empty: '',
        huge: `${this.url}/${'r'.repeat(60_000)}`,
      }[plan.redirect];
      res.writeHead(302, { location }).end();
      return;
    }
    return this.#send(res, req.method ?? 'GET', plan, object);
  }

  #token(plan: HostilePlan, url: string, res: ServerResponse): void {
    if (url.endsWith('/loop')) {
      res.writeHead(302, { location: url }).end();
      return;
    }
    // A token endpoint that answers something other than a token, or a huge one.
    const answers = [
      () => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>not a token</html>'),
      () => res.writeHead(200, { 'content-type': 'application/json' }).end(`{"token":"${'t'.repeat(200_000)}"}`),
      () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"token":null,"expires_in":-1}'),
      () => res.writeHead(500).end(),
    ];
    (answers[plan.delayMs % answers.length] as () => void)();
  }

  #send(res: ServerResponse, method: string, plan: HostilePlan, object: HostileObject): void {
    const body: Buffer | undefined = {
      good: object.bytes,
      'other-bytes': plan.body.kind === 'other-bytes' ? Buffer.from(plan.body.bytes) : undefined,
      html: Buffer.from('<!doctype html><html><body><script>alert(document.domain)</script></body></html>'),
      text: plan.body.kind === 'text' ? Buffer.from(plan.body.text) : undefined,
      endless: undefined,
      truncated: object.bytes,
      empty: Buffer.alloc(0),
      stall: object.bytes,
      trickle: object.bytes,
    }[plan.body.kind];
    const headers: Record<string, string | string[]> = {};
    const contentType = plan.contentType === 'right' ? object.mediaType : plan.contentType;
    if (contentType !== undefined) headers['content-type'] = contentType;
    const digest = {
      right: object.digest,
      wrong: sha256(Buffer.from('something else')),
      none: undefined,
      garbage: 'sha256:../../etc/passwd',
    }[plan.digestHeader];
    if (digest !== undefined) headers['docker-content-digest'] = digest;
    if (body !== undefined && plan.body.kind !== 'stall') {
      const length = { right: body.length, more: body.length + 1024, less: Math.max(0, body.length - 1), none: undefined }[
        plan.lengthHeader
      ];
      if (length !== undefined) headers['content-length'] = String(length);
    }
    for (const [name, value] of plan.extraHeaders) headers[name] = value;
    const status = plan.status;
    try {
      res.writeHead(status, headers);
    } catch {
      // A header node refuses to send (a control character): answer plainly.
      res.writeHead(status);
    }
    if (method === 'HEAD' || status === 204 || status === 304) {
      res.end();
      return;
    }
    switch (plan.body.kind) {
      case 'endless':
        return endless(res);
      case 'trickle':
        return this.#trickle(res, object.bytes);
      case 'truncated':
        res.write(object.bytes.subarray(0, Math.floor(object.bytes.length / 2)));
        res.socket?.destroy();
        return;
      case 'stall':
        res.write(object.bytes.subarray(0, Math.min(plan.body.afterBytes, object.bytes.length)));
        // Nothing more with the connection open; the test's own bound ends it.
        setTimeout(() => res.socket?.destroy(), 5_000).unref();
        return;
      default:
        if (plan.lengthHeader === 'more' || plan.lengthHeader === 'less') {
          res.write(body);
          res.socket?.destroy();
          return;
        }
        res.end(body);
    }
  }

  /** The first KiB, then a byte every 100 ms (never the whole object) until `endTrickles()` or the other side closes. */
  #trickle(res: ServerResponse, bytes: Buffer): void {
    let sent = Math.max(0, Math.min(TRICKLE_HEAD, bytes.length - 1));
    res.write(bytes.subarray(0, sent));
    const drip = setInterval(() => {
      if (sent >= bytes.length - 1) return;
      res.write(bytes.subarray(sent, sent + 1));
      sent += 1;
      this.trickledBytes += 1;
    }, 100);
    const trickle = {
      finish: () => {
        clearInterval(drip);
        this.#trickles.delete(trickle);
        res.end(bytes.subarray(sent));
      },
    };
    this.#trickles.add(trickle);
    res.on('close', () => {
      clearInterval(drip);
      if (this.#trickles.delete(trickle)) this.tricklesCut += 1;
    });
  }
}

function endless(res: ServerResponse): void {
  const chunk = Buffer.alloc(64 << 10, 0x61);
  let sent = 0;
  const pump = (): void => {
    while (sent < ENDLESS_CAP) {
      sent += chunk.length;
      if (!res.write(chunk)) {
        res.once('drain', pump);
        return;
      }
    }
    res.socket?.destroy();
  };
  res.on('close', () => res.removeAllListeners('drain'));
  pump();
}

/** The objects a case may ask for: a blob of random bytes, or a manifest of random layers. */
export const hostileObject: fc.Arbitrary<HostileObject> = fc.oneof(
  fc.uint8Array({ minLength: 0, maxLength: 16_384 }).map((bytes): HostileObject => {
    const buf = Buffer.from(bytes);
    return { kind: 'blob', bytes: buf, digest: sha256(buf), mediaType: 'application/octet-stream' };
  }),
  fc.array(fc.uint8Array({ minLength: 1, maxLength: 32 }), { minLength: 1, maxLength: 3 }).chain((layers) =>
    fc
      .constantFrom('application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json')
      .map((mediaType) => {
        const manifest = {
          schemaVersion: 2,
          mediaType,
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(Buffer.from('{}')), size: 2 },
          layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(l), size: l.length })),
        };
        const buf = Buffer.from(JSON.stringify(manifest));
        return { kind: 'manifest' as const, bytes: buf, digest: sha256(buf), mediaType };
      }),
  ),
);
