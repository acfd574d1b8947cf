import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Pulls `ref` (host:port/name:tag, plain HTTP) with skopeo into a `dir:`
 * layout, which keeps manifests byte-exact and names blobs by digest. With
 * `all`, every instance of an index is pulled too; with `arch` (and
 * `variant`), the instance of that platform (linux) instead of the host's.
 */
export async function skopeoPull(
  skopeo: string,
  ref: string,
  options: { all?: boolean; arch?: string; variant?: string } = {},
): Promise<string> {
  const dest = await mkdtemp(join(tmpdir(), 'vreg-pull-'));
  const platform = [
    ...(options.arch ? ['--override-os', 'linux', '--override-arch', options.arch] : []),
    ...(options.variant ? ['--override-variant', options.variant] : []),
  ];
  const args = [
    ...platform,
    'copy',
    '--retry-times=0',
    '--src-tls-verify=false',
    ...(options.all ? ['--all'] : []),
    `docker://${ref}`,
    `dir:${dest}`,
  ];
  try {
    await run(skopeo, args, { timeout: 180_000, maxBuffer: 16 << 20 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`skopeo ${args.join(' ')} failed: ${e.stderr ?? e.message}`, { cause: err });
  }
  return dest;
}

/** Every file of a `dir:` pull: name → bytes (the `version` file excluded). */
export async function readPulledDir(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const name of (await readdir(dir)).sort()) {
    if (name === 'version') continue;
    out.set(name, await readFile(join(dir, name)));
  }
  return out;
}

/** The host:port part of an http URL, as skopeo wants it. */
export function hostOf(url: string): string {
  return new URL(url).host;
}
