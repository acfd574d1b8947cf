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
