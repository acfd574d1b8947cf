/**
 * Fill lease keys. Blobs are content addressed, so one key per digest
 * whatever registry asks; a tag manifest is per registry and path.
 */
export function blobLeaseKey(digest: string): string {
  return `blob/${digest}`;
}

export function manifestLeaseKey(registryId: string, image: string, reference: string): string {
  return `manifest/${registryId}/${image}/${reference}`;
}
