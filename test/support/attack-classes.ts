/**
 * The attack classes of the security table in docs/reliability.md, in its
 * order. Tests name one per record (security-record.ts, or a fuzz suite's
 * `attack`); scripts/reliability-report.mjs reads this file too, and lists a
 * class no test recorded in the run as not run. No imports: plain Node loads it.
 */
export const AttackClasses = {
  forgedJwts: 'forged JWTs',
  scopeTricks: 'scope tricks',
  ssrf: 'SSRF (every address form, redirects)',
  pathTraversal: 'path traversal',
  secretLeaks: 'secret leaks',
  hostileUpstream: 'hostile upstream content',
  slowBodies: 'slow bodies',
  bruteForce: 'brute force',
  adminScopeEscalation: 'admin scope escalation',
  infoLeaks: 'info leaks',
  abandonedDownloads: 'abandoned downloads',
} as const;
export type AttackClass = (typeof AttackClasses)[keyof typeof AttackClasses];
