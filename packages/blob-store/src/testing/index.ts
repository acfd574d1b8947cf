export {
  chunksOf,
  forceGc,
  MemoryProbe,
  readAll,
  readBlob,
  type TestBlob,
  testBlob,
  writeBlob,
} from './blob-fixtures.ts';
export { type BlobStoreFixture, describeBlobStore } from './describe-blob-store.ts';
