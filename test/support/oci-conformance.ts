import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * The pull workflow's checks with read-only content (the suite's "10 of
 * 10"). junit.xml names them `OCI Conformance Test/<check>`.
 */
export const PULL_CHECKS = [
  'ping',
  'read-only/head/manifest-head-by-tag',
  'read-only/head/manifest-head-by-digest',
  'read-only/head/blob-head',
  'read-only/pull/manifest-by-tag',
  'read-only/pull/manifest-by-digest',
  'read-only/pull/blob-get',
  'missing-manifest/by-digest',
  'missing-manifest/by-tag',
  'invalid-digest-format/manifest-get',
] as const;

/** What the suite reported in junit.xml. */
export interface ConformanceResult {
  /** Status per check name (without the `OCI Conformance Test/` prefix): passed, failure, error, skipped. */
  statuses: Map<string, string>;
  /** The text of each check that did not pass (its `<system-out>`). */
  failures: Map<string, string>;
  counts: { passed: number; failed: number; skipped: number };
  /** `pull checks: 10 of 10 passed; 10 passed, 0 failed, 13 skipped`. */
  summary: string;
}

const unescape = (s: string): string =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');

/**
 * Reads the suite's junit.xml. This version writes the result as a
 * `status` attribute of each `<testcase>` (passed, failure, error, skipped:
 * disabled checks are skipped) and the failure text in `<system-out>`, with
 * no `<failure>` element; its exit status is 1 for any failure, so the file
 * is the only reliable account.
 */
export function parseJunit(xml: string): ConformanceResult {
  const statuses = new Map<string, string>();
  const failures = new Map<string, string>();
  const counts = { passed: 0, failed: 0, skipped: 0 };
  for (const match of xml.matchAll(/<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const attributes = new Map([...(match[1] ?? '').matchAll(/([\w:-]+)="([^"]*)"/g)].map((a) => [a[1] as string, unescape(a[2] ?? '')]));
    const name = (attributes.get('name') ?? '').replace(/^OCI Conformance Test\//, '');
    const body = match[3] ?? '';
    const status =
      attributes.get('status') ??
      (/<failure\b/.test(body) ? 'failure' : /<error\b/.test(body) ? 'error' : /<skipped\b/.test(body) ? 'skipped' : 'passed');
    statuses.set(name, status);
    if (status === 'passed') counts.passed++;
    else if (status === 'skipped') counts.skipped++;
    else {
      counts.failed++;
      failures.set(
        name,
        unescape(/<system-out>([\s\S]*?)<\/system-out>/.exec(body)?.[1] ?? '')
          .trim()
          .slice(0, 600),
      );
    }
  }
  const pulled = PULL_CHECKS.filter((c) => statuses.get(c) === 'passed').length;
  return {
    statuses,
    failures,
    counts,
    summary: `pull checks: ${pulled} of ${PULL_CHECKS.length} passed; ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`,
  };
}

/**
 * Runs the suite's pull workflow (`OCI_TEST_PULL=1`; push, content discovery
 * and management explicitly off, since this version turns them on by
 * default) against pre-existing content: `repository` at `registryUrl`
 * holding `tag` (a manifest `manifestDigest`) and a blob `blobDigest`.
 */
export async function runConformancePull(options: {
  bin: string;
  registryUrl: string;
  repository: string;
  tag: string;
  manifestDigest: string;
  blobDigest: string;
}): Promise<ConformanceResult & { stdout: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'vreg-conformance-'));
  try {
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      OCI_ROOT_URL: options.registryUrl,
      OCI_NAMESPACE: options.repository,
      OCI_TEST_PULL: '1',
      OCI_TEST_PUSH: '0',
      OCI_TEST_CONTENT_DISCOVERY: '0',
      OCI_TEST_CONTENT_MANAGEMENT: '0',
      OCI_TAG_NAME: options.tag,
      OCI_MANIFEST_DIGEST: options.manifestDigest,
      OCI_BLOB_DIGEST: options.blobDigest,
      OCI_DEBUG: '0',
      OCI_RESULTS_DIR: dir,
    };
    let stdout = '';
    try {
      stdout = (await run(options.bin, [], { cwd: dir, env, timeout: 180_000, maxBuffer: 16 << 20 })).stdout;
    } catch (err) {
      // Exit status 1 whenever a check fails: the results file says which.
      const e = err as { stdout?: string; code?: unknown; killed?: boolean; message: string };
      if (e.killed === true || typeof e.code !== 'number')
        throw new Error(`the conformance suite did not finish: ${e.message}`, { cause: err });
      stdout = e.stdout ?? '';
    }
    const xml = await readFile(join(dir, 'junit.xml'), 'utf8').catch((err: Error) => {
      throw new Error(`the conformance suite wrote no junit.xml (${err.message}); its output:\n${stdout.slice(-3000)}`);
    });
    return { ...parseJunit(xml), stdout };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
