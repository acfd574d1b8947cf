import { S3BlobStore } from './s3-blob-store.ts';

/** The S3 settings as `S3Env` (packages/contracts) validates them. */
export interface S3EnvSettings {
  VREG_S3_ENDPOINT?: string | undefined;
  VREG_S3_REGION: string;
  VREG_S3_BUCKET: string;
  VREG_S3_ACCESS_KEY_ID?: string | undefined;
  VREG_S3_SECRET_ACCESS_KEY?: string | undefined;
  VREG_S3_FORCE_PATH_STYLE: boolean;
  VREG_S3_PART_SIZE_MIB: number;
  /** Create the bucket at start-up when it is missing (`openS3BlobStoreFromEnv`); otherwise it must exist. */
  VREG_S3_CREATE_BUCKET?: boolean | undefined;
}

/** The store every distributed-mode process builds from its validated config. */
export function s3BlobStoreFromEnv(config: S3EnvSettings): S3BlobStore {
  return new S3BlobStore({
    region: config.VREG_S3_REGION,
    bucket: config.VREG_S3_BUCKET,
    forcePathStyle: config.VREG_S3_FORCE_PATH_STYLE,
    partSizeBytes: config.VREG_S3_PART_SIZE_MIB << 20,
    ...(config.VREG_S3_ENDPOINT ? { endpoint: config.VREG_S3_ENDPOINT } : {}),
    ...(config.VREG_S3_ACCESS_KEY_ID ? { accessKeyId: config.VREG_S3_ACCESS_KEY_ID } : {}),
    ...(config.VREG_S3_SECRET_ACCESS_KEY ? { secretAccessKey: config.VREG_S3_SECRET_ACCESS_KEY } : {}),
  });
}

/**
 * The store of a distributed-mode process, its bucket created first when
 * VREG_S3_CREATE_BUCKET is set. Without it the bucket must exist; readiness
 * (`probeWritable`) says so when it does not.
 * @throws BlobStoreUnavailableError when the bucket was to be created and could not be.
 */
export async function openS3BlobStoreFromEnv(config: S3EnvSettings): Promise<S3BlobStore> {
  const store = s3BlobStoreFromEnv(config);
  if (config.VREG_S3_CREATE_BUCKET === true) await store.ensureBucket();
  return store;
}
