import { readFileSync } from 'node:fs';

/** One image the test environment seeded into the upstream registries (scripts/test-env/seed.mjs). */
export interface SeededImage {
  name: string;
  tag: string;
  [key: string]: unknown;
}

/** The servers scripts/test-env started, from the VREG_TEST_* variables `npm test` exports. */
export interface TestEnv {
  natsUrl: string;
  mongoUrl: string;
  s3: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string };
  upstreamA: string;
  upstreamB: string;
  upstreamScript: string;
  skopeo: string;
  seeded: SeededImage[];
}

function need(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the suite with \`npm test\`, which starts the test servers (scripts/test-env)`);
  return v;
}

export function testEnv(): TestEnv {
  const seededFile = JSON.parse(readFileSync(need('VREG_TEST_SEEDED'), 'utf8')) as { images?: SeededImage[] } | SeededImage[];
  return {
    natsUrl: need('VREG_TEST_NATS_URL'),
    mongoUrl: need('VREG_TEST_MONGO_URL'),
    s3: {
      endpoint: need('VREG_TEST_S3_ENDPOINT'),
      region: need('VREG_TEST_S3_REGION'),
      accessKeyId: need('VREG_TEST_S3_ACCESS_KEY'),
      secretAccessKey: need('VREG_TEST_S3_SECRET_KEY'),
    },
    upstreamA: need('VREG_TEST_UPSTREAM_URL'),
    upstreamB: need('VREG_TEST_UPSTREAM_B_URL'),
    upstreamScript: need('VREG_TEST_UPSTREAM_SCRIPT'),
    skopeo: process.env.VREG_TEST_SKOPEO ?? 'skopeo',
    seeded: Array.isArray(seededFile) ? seededFile : (seededFile.images ?? []),
  };
}
