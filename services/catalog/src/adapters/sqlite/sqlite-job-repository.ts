import type Database from 'better-sqlite3';
import {
  applyJobPatch,
  type Job,
  type JobData,
  type JobFilter,
  type JobKind,
  type JobPatch,
  type JobProgress,
  type JobState,
  type NewJob,
  newJobRecord,
} from '../../domain/job.ts';
import { parseNumericId } from '../../domain/numeric-id.ts';
import { type Page, type PageRequest, pageOffset } from '../../domain/page.ts';
import type { JobRepository } from '../../ports/job-repository.ts';
import { fromSqlTime, toSqlTime } from './sqlite-schema.ts';

interface JobRow {
  id: number;
  kind: string;
  state: string;
  registry_id: number | null;
  /** JSON object. */
  params: string;
  /** JSON `{objects_done, objects_total, bytes_done, bytes_total}`. */
  progress: string;
  result: string | null;
  /** JSON array of strings. */
  errors: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  updated_at: string;
}

interface ProgressJson {
  objects_done: number;
  objects_total: number | null;
  bytes_done: number;
  bytes_total: number | null;
}

function toJob(row: JobRow): Job {
  const progress = JSON.parse(row.progress) as ProgressJson;
  return {
    id: String(row.id),
    kind: row.kind as JobKind,
    state: row.state as JobState,
    registryId: row.registry_id === null ? null : String(row.registry_id),
    params: JSON.parse(row.params) as JobData,
    progress: {
      objectsDone: progress.objects_done,
      objectsTotal: progress.objects_total,
      bytesDone: progress.bytes_done,
      bytesTotal: progress.bytes_total,
    },
    result: row.result === null ? null : (JSON.parse(row.result) as JobData),
    errors: JSON.parse(row.errors) as string[],
    createdAt: fromSqlTime(row.created_at),
    startedAt: row.started_at === null ? null : fromSqlTime(row.started_at),
    finishedAt: row.finished_at === null ? null : fromSqlTime(row.finished_at),
    updatedAt: fromSqlTime(row.updated_at),
  };
}

function progressJson(p: JobProgress): string {
  return JSON.stringify({
    objects_done: p.objectsDone,
    objects_total: p.objectsTotal,
    bytes_done: p.bytesDone,
    bytes_total: p.bytesTotal,
  } satisfies ProgressJson);
}

const time = (d: Date | null): string | null => (d === null ? null : toSqlTime(d));

/** Jobs in the `jobs` table; ids from AUTOINCREMENT, never reused. */
export class SqliteJobRepository implements JobRepository {
  readonly #db: Database.Database;

  constructor(db: Database.Database) {
    this.#db = db;
  }

  async create(input: NewJob): Promise<Job> {
    const draft = newJobRecord('0', input, new Date());
    const row = this.#db
      .prepare<unknown[], JobRow>(
        `INSERT INTO jobs (kind, state, registry_id, params, progress, result, errors, created_at, started_at, finished_at, updated_at)
         VALUES (?, ?, ?, ?, ?, NULL, '[]', ?, NULL, NULL, ?) RETURNING *`,
      )
      .get(
        draft.kind,
        draft.state,
        draft.registryId === null ? null : (parseNumericId(draft.registryId) ?? null),
        JSON.stringify(draft.params),
        progressJson(draft.progress),
        toSqlTime(draft.createdAt),
        toSqlTime(draft.updatedAt),
      );
    return toJob(row as JobRow);
  }

  async get(id: string): Promise<Job | undefined> {
    return this.#get(id);
  }

  async list(filter: JobFilter, page: PageRequest): Promise<Page<Job>> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.kind !== undefined) {
      where.push('kind = ?');
      args.push(filter.kind);
    }
    if (filter.state !== undefined) {
      where.push('state = ?');
      args.push(filter.state);
    }
    if (filter.registryId !== undefined) {
      const n = parseNumericId(filter.registryId);
      if (n === undefined) return { items: [], total: 0 };
      where.push('registry_id = ?');
      args.push(n);
    }
    if (filter.registryIds !== undefined) {
      // One bound JSON array whatever the number of ids; NULL (store-wide jobs) is never IN it.
      where.push('registry_id IN (SELECT value FROM json_each(?))');
      args.push(JSON.stringify(filter.registryIds.map(parseNumericId).filter((id): id is number => id !== undefined)));
    }
    const clause = where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`;
    const rows = this.#db
      .prepare<unknown[], JobRow>(`SELECT * FROM jobs ${clause} ORDER BY id DESC LIMIT ? OFFSET ?`)
      .all(...args, page.perPage, pageOffset(page));
    const { total } = this.#db.prepare<unknown[], { total: number }>(`SELECT count(*) AS total FROM jobs ${clause}`).get(...args) as {
      total: number;
    };
    return { items: rows.map(toJob), total };
  }

  async update(id: string, patch: JobPatch): Promise<Job | undefined> {
    // Read, patch, write in one transaction: SQLite serializes writers.
    return this.#db.transaction((): Job | undefined => {
      const current = this.#get(id);
      if (current === undefined) return undefined;
      const next = applyJobPatch(current, patch, new Date());
      this.#write(next);
      return next;
    })();
  }

  async updateIfUnchanged(id: string, seen: Pick<Job, 'state' | 'updatedAt'>, patch: JobPatch): Promise<Job | undefined> {
    // Compare and write in one transaction: SQLite serializes writers, across processes too.
    return this.#db.transaction((): Job | undefined => {
      const current = this.#get(id);
      if (current === undefined || current.state !== seen.state || current.updatedAt.getTime() !== seen.updatedAt.getTime())
        return undefined;
      const next = applyJobPatch(current, patch, new Date());
      this.#write(next);
      return next;
    })();
  }

  async claimQueued(kind: JobKind, at: Date): Promise<Job | undefined> {
    return this.#db.transaction((): Job | undefined => {
      const row = this.#db
        .prepare<[string], JobRow>(`SELECT * FROM jobs WHERE kind = ? AND state = 'queued' ORDER BY id LIMIT 1`)
        .get(kind);
      if (row === undefined) return undefined;
      const claimed = applyJobPatch(toJob(row), { state: 'running', startedAt: at }, new Date());
      this.#write(claimed);
      return claimed;
    })();
  }

  #get(id: string): Job | undefined {
    const n = parseNumericId(id);
    if (n === undefined) return undefined;
    const row = this.#db.prepare<[number], JobRow>('SELECT * FROM jobs WHERE id = ?').get(n);
    return row === undefined ? undefined : toJob(row);
  }

  #write(job: Job): void {
    this.#db
      .prepare(
        `UPDATE jobs SET state = ?, progress = ?, result = ?, errors = ?, started_at = ?, finished_at = ?, updated_at = ? WHERE id = ?`,
      )
      .run(
        job.state,
        progressJson(job.progress),
        job.result === null ? null : JSON.stringify(job.result),
        JSON.stringify(job.errors),
        time(job.startedAt),
        time(job.finishedAt),
        toSqlTime(job.updatedAt),
        Number(job.id),
      );
  }
}
