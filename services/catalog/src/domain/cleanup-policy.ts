/**
 * Cleanup policies (GitLab's virtual registry cleanup policy shape), one per
 * registry: every `cadence` days, entries not downloaded for
 * `keepNDaysAfterDownload` days are marked for destruction.
 */
export const CLEANUP_CADENCES = [1, 7, 14, 30, 90] as const;
export type CleanupCadence = (typeof CLEANUP_CADENCES)[number];

export const KEEP_N_DAYS_MIN = 1;
export const KEEP_N_DAYS_MAX = 365;

export const CleanupPolicyStatuses = ['scheduled', 'running', 'failed'] as const;
export type CleanupPolicyStatus = (typeof CleanupPolicyStatuses)[number];

export const DAY_MS = 24 * 60 * 60 * 1000;

export interface CleanupPolicy {
  readonly registryId: string;
  readonly enabled: boolean;
  readonly keepNDaysAfterDownload: number;
  readonly cadence: CleanupCadence;
  readonly nextRunAt: Date;
  readonly lastRunAt: Date | null;
  readonly lastRunDeletedEntriesCount: number;
  readonly lastRunDeletedSize: number;
  readonly status: CleanupPolicyStatus;
  readonly failureMessage: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** What an administrator sets with PUT; the repository keeps the last-run fields of a replaced policy. */
export interface CleanupPolicySettings {
  enabled: boolean;
  keepNDaysAfterDownload: number;
  cadence: CleanupCadence;
  nextRunAt: Date;
}

/** The outcome of a run, written to the policy's last-run fields. */
export interface CleanupPolicyRunUpdate {
  status: CleanupPolicyStatus;
  lastRunAt?: Date;
  lastRunDeletedEntriesCount?: number;
  lastRunDeletedSize?: number;
  failureMessage?: string | null;
}

/** The audit record of one cleanup run. */
export interface CleanupRun {
  readonly id: string;
  readonly registryId: string;
  readonly jobId: string;
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly keepNDaysAfterDownload: number;
  readonly deletedEntriesCount: number;
  readonly deletedSize: number;
  readonly status: 'succeeded' | 'failed';
}

export type NewCleanupRun = Omit<CleanupRun, 'id'>;

/** When a policy runs next after a run (or an enabling) at `from`. */
export function nextCleanupRunAt(from: Date, cadence: number): Date {
  return new Date(from.getTime() + cadence * DAY_MS);
}

/** `policy` once a replica claimed its run due at `now`: running, with the next run one cadence on. */
export function claimPolicyRun(policy: CleanupPolicy, now: Date, updatedAt: Date): CleanupPolicy {
  return { ...policy, nextRunAt: nextCleanupRunAt(now, policy.cadence), status: 'running', updatedAt };
}

/** The fresh policy a PUT creates, or the replacement of `current` (its last-run fields kept). */
export function settlePolicy(
  registryId: string,
  settings: CleanupPolicySettings,
  current: CleanupPolicy | undefined,
  now: Date,
): CleanupPolicy {
  return {
    registryId,
    enabled: settings.enabled,
    keepNDaysAfterDownload: settings.keepNDaysAfterDownload,
    cadence: settings.cadence,
    nextRunAt: settings.nextRunAt,
    lastRunAt: current?.lastRunAt ?? null,
    lastRunDeletedEntriesCount: current?.lastRunDeletedEntriesCount ?? 0,
    lastRunDeletedSize: current?.lastRunDeletedSize ?? 0,
    status: current?.status === 'running' ? 'running' : 'scheduled',
    failureMessage: null,
    createdAt: current?.createdAt ?? now,
    updatedAt: now,
  };
}

/** The policy after a run update. */
export function applyRunUpdate(policy: CleanupPolicy, update: CleanupPolicyRunUpdate, now: Date): CleanupPolicy {
  return {
    ...policy,
    status: update.status,
    ...(update.lastRunAt === undefined ? {} : { lastRunAt: update.lastRunAt }),
    ...(update.lastRunDeletedEntriesCount === undefined ? {} : { lastRunDeletedEntriesCount: update.lastRunDeletedEntriesCount }),
    ...(update.lastRunDeletedSize === undefined ? {} : { lastRunDeletedSize: update.lastRunDeletedSize }),
    ...(update.failureMessage === undefined ? {} : { failureMessage: update.failureMessage }),
    updatedAt: now,
  };
}
