import { createHash } from 'node:crypto';

/** What {@link pushImage} stored. */
export interface PushedImage {
  /** The exact manifest bytes and their digest. */
  manifest: Buffer;
  manifestDigest: string;
  /** The single layer blob and its digest. */
  layer: Buffer;
  layerDigest: string;
  /** The config blob digest. */
  configDigest: string;
}

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

export function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/**
 * Pushes a tiny OCI image (a config blob, one layer, a manifest tagged
 * `tag`) with plain Distribution API calls: monolithic blob uploads
 * (POST an upload, PUT the bytes with `?digest=`), then PUT the manifest.
 */
export async function pushImage(registryUrl: string, name: string, tag: string, layer: Buffer): Promise<PushedImage> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(layer)] } }));
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
  const res = await fetch(`${registryUrl}/v2/${name}/manifests/${tag}`, {
    method: 'PUT',
    headers: { 'content-type': OCI_MANIFEST },
    body: manifest,
  });
  await expectStatus(res, 201, 'manifest PUT');
  return { manifest, manifestDigest: sha256(manifest), layer, layerDigest, configDigest };
}

async function pushBlob(registryUrl: string, name: string, bytes: Buffer): Promise<string> {
  const digest = sha256(bytes);
  const start = await fetch(`${registryUrl}/v2/${name}/blobs/uploads/`, { method: 'POST' });
  await expectStatus(start, 202, 'upload POST');
  const location = new URL(start.headers.get('location') ?? '', registryUrl);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream' },
    body: bytes,
  });
  await expectStatus(put, 201, 'upload PUT');
  return digest;
}

async function expectStatus(res: Response, status: number, what: string): Promise<void> {
  const body = await res.text();
  if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status}: ${body.slice(0, 500)}`);
}
