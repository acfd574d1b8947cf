export { type BlobStoreFixture, describeBlobStore } from './describe-blob-store.ts';
export {
  MemoryProbe,
  type TestBlob,
  chunksOf,
  forceGc,
  readAll,
  readBlob,
  testBlob,
  writeBlob,
} from './blob-fixtures.ts';
