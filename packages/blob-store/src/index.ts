export type { BlobRead, BlobStat, BlobStore, BlobWriter, ByteRange } from './blob-store.ts';
export {
  BlobDigestMismatchError,
  BlobRangeInvalidError,
  BlobStoreError,
  BlobStoreUnavailableError,
  type DigestMismatchDetail,
  InvalidDigestError,
} from './errors.ts';
export { type DigestAlgorithm, DigestAlgorithms, type ParsedDigest, blobKey, isValidDigest, parseDigest } from './blob-key.ts';
export { type ResolvedRange, resolveRange } from './resolve-range.ts';
export { type BlobSink, VerifyingBlobWriter, type VerifyingBlobWriterOptions } from './verifying-blob-writer.ts';
export { MemoryBlobStore } from './memory/memory-blob-store.ts';
export { FsBlobStore, type FsBlobStoreOptions } from './fs/fs-blob-store.ts';
export { S3BlobStore, type S3BlobStoreOptions } from './s3/s3-blob-store.ts';
export { s3BlobStoreFromEnv, type S3EnvSettings } from './s3/s3-blob-store-from-env.ts';
