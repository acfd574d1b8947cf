import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The outcome of a skopeo command: it never throws, so tests can assert on failures. */
export interface SkopeoResult {
  ok: boolean;
  stderr: string;
}

function skopeo(bin: string, args: string[], stdin?: string): Promise<SkopeoResult> {
  return new Promise((resolve) => {
    const child = execFile(bin, args, { timeout: 180_000, maxBuffer: 16 << 20 }, (err, _stdout, stderr) =>
      resolve({ ok: err === null, stderr: String(stderr) }),
    );
    if (stdin !== undefined) child.stdin?.end(stdin);
  });
}

/** A skopeo client with its own auth file, as one user on one machine. */
export class SkopeoClient {
  private constructor(
    readonly bin: string,
    readonly authfile: string,
  ) {}

  static async create(bin: string): Promise<SkopeoClient> {
    const dir = await mkdtemp(join(tmpdir(), 'vreg-auth-skopeo-'));
    const authfile = join(dir, 'auth.json');
    await writeFile(authfile, '{"auths":{}}\n', { mode: 0o600 });
    return new SkopeoClient(bin, authfile);
  }

  /** `skopeo login` with the token on stdin (never on the command line). */
  login(host: string, username: string, token: string): Promise<SkopeoResult> {
    return skopeo(
      this.bin,
      ['login', '--tls-verify=false', '--authfile', this.authfile, '--username', username, '--password-stdin', host],
      token,
    );
  }

  /** `skopeo copy` of `ref` (host/name:tag) into a fresh dir: layout, with this client's credentials. */
  async pull(ref: string): Promise<SkopeoResult & { dir: string }> {
    const dir = await mkdtemp(join(tmpdir(), 'vreg-auth-pull-'));
    const result = await skopeo(this.bin, [
      'copy',
      '--retry-times=0',
      '--src-tls-verify=false',
      '--src-authfile',
      this.authfile,
      `docker://${ref}`,
      `dir:${dir}`,
    ]);
    return { ...result, dir };
  }

  /** `skopeo copy` with no credentials at all. */
  async pullAnonymously(ref: string): Promise<SkopeoResult & { dir: string }> {
    const dir = await mkdtemp(join(tmpdir(), 'vreg-auth-pull-'));
    const result = await skopeo(this.bin, [
      'copy',
      '--retry-times=0',
      '--src-tls-verify=false',
      '--src-no-creds',
      `docker://${ref}`,
      `dir:${dir}`,
    ]);
    return { ...result, dir };
  }
}

export const basic = (username: string, secret: string): string => `Basic ${Buffer.from(`${username}:${secret}`).toString('base64')}`;

/** A GET from a chosen local address (127.0.0.2 is another client than 127.0.0.1 on loopback). */
export function getFrom(
  localAddress: string,
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { localAddress, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** A registry token from `GET <gateway>/v2/token` for `scopes`, with Basic credentials or none. */
export async function registryToken(
  gatewayUrl: string,
  scopes: string[],
  authorization?: string,
): Promise<{ status: number; token?: string }> {
  const query = new URLSearchParams([['service', 'vreg'], ...scopes.map((s) => ['scope', s] as [string, string])]);
  const res = await fetch(`${gatewayUrl}/v2/token?${query}`, { headers: authorization === undefined ? {} : { authorization } });
  const body = (await res.json()) as { token?: string };
  return { status: res.status, ...(body.token === undefined ? {} : { token: body.token }) };
}
