export { blobKey, type DigestAlgorithm, DigestAlgorithms, isValidDigest, type ParsedDigest, parseDigest } from './blob-key.ts';
export type { BlobRead, BlobStat, BlobStore, BlobWriter, BlobWriteToOptions, ByteRange, WrittenBytes } from './blob-store.ts';
export {
  BlobDigestMismatchError,
  BlobRangeInvalidError,
  BlobStoreError,
  BlobStoreUnavailableError,
  type DigestMismatchDetail,
  InvalidDigestError,
} from './errors.ts';
export { FsBlobStore, type FsBlobStoreOptions } from './fs/fs-blob-store.ts';
export { blobReadBuffers, ReadBufferPool } from './fs/read-buffer-pool.ts';
export { HotBlobTier, type HotBlobTierOptions } from './hot-tier/hot-blob-tier.ts';
export { MemoryBlobStore } from './memory/memory-blob-store.ts';
export { type ResolvedRange, resolveRange } from './resolve-range.ts';
export { S3BlobStore, type S3BlobStoreOptions } from './s3/s3-blob-store.ts';
export { openS3BlobStoreFromEnv, type S3EnvSettings, s3BlobStoreFromEnv } from './s3/s3-blob-store-from-env.ts';
export { type BlobSink, VerifyingBlobWriter, type VerifyingBlobWriterOptions } from './verifying-blob-writer.ts';
export { prematureClose, writeChunk } from './write-chunk.ts';
