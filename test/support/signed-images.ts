import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';

const run = promisify(execFile);
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A one-file ustar archive: what an image layer is, so podman and containerd can unpack it. */
function tarOf(path: string, data: Buffer): Buffer {
  const header = Buffer.alloc(512);
  const field = (value: string, offset: number, length: number): void => {
    header.write(value.slice(0, length), offset, 'ascii');
  };
  field(path, 0, 100);
  field('0000644\0', 100, 8);
  field('0000000\0', 108, 8);
  field('0000000\0', 116, 8);
  field(`${data.length.toString(8).padStart(11, '0')}\0`, 124, 12);
  field('00000000000\0', 136, 12);
  field('        ', 148, 8);
  field('0', 156, 1);
  field('ustar\0', 257, 6);
  field('00', 263, 2);
  let sum = 0;
  for (const byte of header) sum += byte;
  field(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  const padding = Buffer.alloc((512 - (data.length % 512)) % 512);
  return Buffer.concat([header, data, padding, Buffer.alloc(1024)]);
}

async function pushBlob(registryUrl: string, name: string, bytes: Buffer): Promise<string> {
  const digest = sha256(bytes);
  const start = await fetch(`${registryUrl}/v2/${name}/blobs/uploads/`, { method: 'POST' });
  await start.arrayBuffer();
  if (start.status !== 202) throw new Error(`upload POST ${name}: ${start.status}`);
  const location = new URL(start.headers.get('location') ?? '', registryUrl);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream' },
    body: new Uint8Array(bytes),
  });
  await put.arrayBuffer();
  if (put.status !== 201) throw new Error(`upload PUT ${name}: ${put.status}`);
  return digest;
}

async function putManifest(registryUrl: string, name: string, reference: string, bytes: Buffer, mediaType: string): Promise<string> {
  const res = await fetch(`${registryUrl}/v2/${name}/manifests/${reference}`, {
    method: 'PUT',
    headers: { 'content-type': mediaType },
    body: new Uint8Array(bytes),
  });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`manifest PUT ${name}:${reference}: ${res.status} ${text.slice(0, 300)}`);
  return sha256(bytes);
}

export interface PushedImage {
  digest: string;
  size: number;
  blobs: string[];
}

/** Pushes a small real image (one gzipped tar layer naming `label`) to `name:tag`; distinct labels give distinct digests. */
export async function pushLabelledImage(
  registryUrl: string,
  name: string,
  tag: string,
  label: string,
  platform = { os: 'linux', architecture: 'amd64' },
): Promise<PushedImage> {
  const tar = tarOf('etc/vreg-label', Buffer.from(`${label}\n`));
  const layer = gzipSync(tar);
  const diffId = sha256(tar);
  const config = Buffer.from(
    JSON.stringify({
      ...platform,
      config: { Cmd: ['/bin/sh'] },
      rootfs: { type: 'layers', diff_ids: [diffId] },
      history: [{ comment: label }],
    }),
  );
  const configDigest = await pushBlob(registryUrl, name, config);
  const layerDigest = await pushBlob(registryUrl, name, layer);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigest, size: layer.length }],
    }),
  );
  const digest = await putManifest(registryUrl, name, tag, manifest, OCI_MANIFEST);
  return { digest, size: manifest.length, blobs: [configDigest, layerDigest] };
}

/** Pushes an OCI index of images already pushed under `name` (their manifests by digest). */
export async function pushIndex(
  registryUrl: string,
  name: string,
  tag: string,
  children: ReadonlyArray<PushedImage & { platform: { os: string; architecture: string } }>,
): Promise<PushedImage> {
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: children.map((c) => ({ mediaType: OCI_MANIFEST, digest: c.digest, size: c.size, platform: c.platform })),
    }),
  );
  const digest = await putManifest(registryUrl, name, tag, index, OCI_INDEX);
  return { digest, size: index.length, blobs: [] };
}

/**
 * Copies the cosign signature of `fromName@fromDigest` to `toName`'s tag for
 * `toDigest`, unchanged: a genuine signature made for another digest, which
 * is what a hostile upstream can serve without the key.
 */
export async function replaySignature(
  registryUrl: string,
  fromName: string,
  fromDigest: string,
  toName: string,
  toDigest: string,
): Promise<void> {
  const tag = (d: string): string => `${d.replace(':', '-')}.sig`;
  const res = await fetch(`${registryUrl}/v2/${fromName}/manifests/${tag(fromDigest)}`, { headers: { accept: OCI_MANIFEST } });
  if (res.status !== 200) throw new Error(`no signature at ${fromName}:${tag(fromDigest)}: ${res.status}`);
  const manifest = Buffer.from(await res.arrayBuffer());
  const doc = JSON.parse(manifest.toString('utf8')) as { config: { digest: string }; layers: Array<{ digest: string }> };
  for (const d of [doc.config.digest, ...doc.layers.map((l) => l.digest)]) {
    const blob = Buffer.from(await (await fetch(`${registryUrl}/v2/${fromName}/blobs/${d}`)).arrayBuffer());
    await pushBlob(registryUrl, toName, blob);
  }
  await putManifest(registryUrl, toName, tag(toDigest), manifest, OCI_MANIFEST);
}

/**
 * Real cosign (v2.6.1, built by scripts/test-env/install.sh), kept off the
 * network: keyed signing with `--tlog-upload=false` never contacts Rekor or
 * the Sigstore TUF repository, and HOME is a throwaway directory.
 */
export class Cosign {
  private constructor(
    readonly dir: string,
    readonly bin: string,
  ) {}

  static async create(): Promise<Cosign> {
    const dir = await mkdtemp(join(tmpdir(), 'vreg-cosign-'));
    await mkdir(join(dir, 'home'));
    const bin = process.env.VREG_TEST_BIN_DIR ? join(process.env.VREG_TEST_BIN_DIR, 'cosign') : 'cosign';
    return new Cosign(dir, bin);
  }

  async #run(args: string[], env: Record<string, string> = {}): Promise<string> {
    try {
      const { stdout } = await run(this.bin, args, {
        cwd: this.dir,
        timeout: 120_000,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: join(this.dir, 'home'),
          COSIGN_PASSWORD: 'vreg-test',
          TUF_ROOT: join(this.dir, 'home', 'tuf'),
          ...env,
        },
      });
      return stdout;
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`cosign ${args.join(' ')} failed: ${e.stderr ?? e.message}`, { cause: err });
    }
  }

  /** `cosign generate-key-pair`: an ECDSA P-256 key; resolves the public key's PEM. */
  async generateKey(name: string): Promise<string> {
    await this.#run(['generate-key-pair', '--output-key-prefix', name]);
    return readFile(join(this.dir, `${name}.pub`), 'utf8');
  }

  /**
   * Signs `host/name@digest` with the key, pushing the signature to the
   * registry: cosign's `.sig` tag by default; with `as: 'referrer'` an OCI
   * 1.1 referrer (`--registry-referrers-mode=oci-1-1`, experimental in
   * cosign 2); with `as: 'bundle'` a sigstore bundle referrer
   * (`--new-bundle-format`, cosign 3's default). On a registry without the
   * referrers API cosign falls back to the tag schema's index.
   */
  async sign(key: string, ref: string, options: { recursive?: boolean; as?: 'sig-tag' | 'referrer' | 'bundle' } = {}): Promise<void> {
    await this.#run(
      [
        'sign',
        '--key',
        join(this.dir, `${key}.key`),
        '--tlog-upload=false',
        '--allow-insecure-registry',
        '--yes',
        ...(options.recursive ? ['--recursive'] : []),
        ...(options.as === 'referrer' ? ['--registry-referrers-mode=oci-1-1'] : []),
        ...(options.as === 'bundle' ? ['--new-bundle-format'] : []),
        ref,
      ],
      options.as === 'referrer' ? { COSIGN_EXPERIMENTAL: '1' } : {},
    );
  }

  /** `cosign import-key-pair`: a PEM private key (a keyless PKI's leaf) as a cosign key named `name`. */
  async importKey(name: string, keyPath: string): Promise<void> {
    await this.#run(['import-key-pair', '--key', keyPath, '--output-key-prefix', name]);
  }

  /**
   * A "keyless" signature made offline: the key of a certificate from a
   * private CA, the certificate and its chain attached, an RFC 3161
   * timestamp from a local TSA, no Rekor (`--tlog-upload=false`).
   */
  async signWithCertificate(key: string, options: { certificate: string; chain: string; tsaUrl: string }, ref: string): Promise<void> {
    await this.#run([
      'sign',
      '--key',
      join(this.dir, `${key}.key`),
      '--certificate',
      options.certificate,
      '--certificate-chain',
      options.chain,
      '--timestamp-server-url',
      options.tsaUrl,
      '--tlog-upload=false',
      '--allow-insecure-registry',
      '--yes',
      ref,
    ]);
  }

  /**
   * `cosign verify` of a reference (through vreg, say), offline: an empty
   * trusted root keeps cosign from fetching the public Sigstore one.
   */
  async verify(key: string, ref: string): Promise<string> {
    const trustedRoot = join(this.dir, 'empty-trusted-root.json');
    await writeFile(
      trustedRoot,
      '{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1","tlogs":[],"certificateAuthorities":[],"ctlogs":[],"timestampAuthorities":[]}',
    );
    return this.#run([
      'verify',
      '--key',
      join(this.dir, `${key}.pub`),
      '--private-infrastructure',
      '--trusted-root',
      trustedRoot,
      '--allow-insecure-registry',
      ref,
    ]);
  }
}
