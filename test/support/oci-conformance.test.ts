import { describe, expect, it } from 'vitest';
import { PULL_CHECKS, parseJunit } from './oci-conformance.ts';

/** junit.xml as this version of the suite writes it: a status attribute, the failure in system-out, no <failure>. */
const junit = (failing: string) => `<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="23" failures="1" disabled="13">
  <testsuite name="OCI Conformance Test" tests="23">
${PULL_CHECKS.map(
  (c) =>
    `    <testcase name="OCI Conformance Test/${c}" classname="x" status="${c === failing ? 'failure' : 'passed'}" time="0.01">${
      c === failing
        ? '<system-out>manifest get failed: unexpected status code, expected one of [200], received 503 &amp; more</system-out>'
        : ''
    }</testcase>`,
).join('\n')}
    <testcase name="OCI Conformance Test/push/blob-push" classname="x" status="skipped" time="0"></testcase>
    <testcase name="OCI Conformance Test/delete/blob-delete" classname="x" status="skipped" time="0"/>
  </testsuite>
</testsuites>`;

describe('parseJunit', () => {
  it('reads each check’s status attribute and the failure text, and sums them up', () => {
    const result = parseJunit(junit('read-only/pull/manifest-by-tag'));
    expect(result.statuses.get('read-only/pull/manifest-by-tag')).toBe('failure');
    expect(result.statuses.get('ping')).toBe('passed');
    expect(result.statuses.get('delete/blob-delete')).toBe('skipped');
    expect(result.failures.get('read-only/pull/manifest-by-tag')).toBe(
      'manifest get failed: unexpected status code, expected one of [200], received 503 & more',
    );
    expect(result.summary).toBe('pull checks: 9 of 10 passed; 9 passed, 1 failed, 2 skipped');
    expect(parseJunit(junit('none')).summary).toBe('pull checks: 10 of 10 passed; 10 passed, 0 failed, 2 skipped');
  });

  it('falls back to <failure> and <skipped> elements when a case has no status attribute', () => {
    const xml =
      '<testsuite><testcase name="OCI Conformance Test/ping"><failure message="x"/></testcase><testcase name="a"><skipped/></testcase></testsuite>';
    const result = parseJunit(xml);
    expect([result.statuses.get('ping'), result.statuses.get('a')]).toEqual(['failure', 'skipped']);
  });
});
