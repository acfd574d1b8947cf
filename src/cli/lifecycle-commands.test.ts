import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.ts';
import { captureIo } from './testing/capture-io.ts';
import { FakeAdminApi, fakeJob } from './testing/fake-admin-api.ts';

const ENV = { VREG_URL: 'http://vreg.test:5000', VREG_TOKEN: 'admin-token', XDG_CONFIG_HOME: '/nonexistent-vreg-test' };

async function vreg(api: FakeAdminApi, args: string, options: { tty?: boolean } = {}) {
  const io = captureIo(options);
  const code = await runCli(
    args.split(' ').filter((a) => a !== ''),
    ENV,
    io,
    api.fetch,
  );
  return { code, out: io.stdout.join('\n'), err: io.stderr.join('\n'), stream: io.stderrStream.join(''), sleeps: io.sleeps };
}

const running = (objects: number, bytes: number) =>
  fakeJob({ state: 'running', progress: { objects_done: objects, objects_total: 3, bytes_done: bytes, bytes_total: 4096 } });

describe('vreg warm', () => {
  it('asks for the platforms given and redraws one progress line on a terminal until success', async () => {
    const api = new FakeAdminApi()
      .on('POST /registries/1/warm', { status: 202, body: fakeJob() })
      .on('GET /jobs/7', [
        { body: running(0, 0) },
        { body: running(1, 1024) },
        { body: running(1, 1024) },
        { body: fakeJob({ state: 'succeeded', progress: { objects_done: 3, objects_total: 3, bytes_done: 4096, bytes_total: 4096 } }) },
      ]);
    const io = captureIo({ tty: true });
    const code = await runCli(
      'warm 1 library/multiarch:latest --platform linux/amd64 --platform linux/arm64/v8'.split(' '),
      ENV,
      io,
      api.fetch,
    );
    const r = { code, out: io.stdout.join('\n'), stream: io.stderrStream.join(''), sleeps: io.sleeps };
    expect(r.code).toBe(0);
    expect(api.requests[0]).toMatchObject({
      method: 'POST',
      path: '/registries/1/warm',
      body: { image: 'library/multiarch', tag: 'latest', platforms: ['linux/amd64', 'linux/arm64/v8'] },
    });
    // Queued, 0/3, 1/3 (shown once though polled twice), done: four redraws, then a newline.
    const frames = r.stream.split('\r').slice(1);
    expect(frames).toHaveLength(4);
    expect(frames[0]).toBe('warm library/multiarch:latest queued    [------------------------] 0 objects  0 B  --%\x1b[K');
    expect(frames[2]).toBe('warm library/multiarch:latest running   [######------------------] 1/3 objects  1.0 KiB/4.0 KiB  25%\x1b[K');
    expect(frames[3]).toBe('warm library/multiarch:latest succeeded [########################] 3/3 objects  4.0 KiB/4.0 KiB  100%\x1b[K\n');
    expect(r.out).toBe('Warmed library/multiarch:latest in registry 1: 3 objects, 4.0 KiB.');
    // Polls come every 250 ms while the job moves, less often while it does not.
    expect(r.sleeps).toEqual([250, 250, 250, 375]);
    expect(io.interruptNotes).toEqual(['warm job 7 keeps running on the server; follow it again with: vreg jobs wait 7', undefined]);
  });

  it('prints one line per change when stderr is not a terminal and exits 1 with the job errors when it fails', async () => {
    const api = new FakeAdminApi().on('POST /registries/2/warm', { status: 202, body: fakeJob({ registry_id: '2' }) }).on('GET /jobs/7', [
      { body: running(1, 1024) },
      { body: running(1, 1024) },
      {
        body: fakeJob({
          state: 'failed',
          progress: { objects_done: 1, objects_total: 3, bytes_done: 1024, bytes_total: 4096 },
          errors: ['library/nope:latest: manifest unknown on every upstream', 'second problem'],
        }),
      },
    ]);
    const r = await vreg(api, 'warm 2 library/nope');
    expect(r.code).toBe(1);
    expect(api.requests[0]?.body).toEqual({ image: 'library/nope', tag: 'latest', platforms: 'all' });
    expect(r.stream).not.toContain('\r');
    expect(r.err.split('\n')).toEqual([
      'warm library/nope:latest queued: 0 objects, 0 B, --%',
      'warm library/nope:latest running: 1/3 objects, 1.0 KiB/4.0 KiB, 25%',
      'warm library/nope:latest failed: 1/3 objects, 1.0 KiB/4.0 KiB, 25%',
      'vreg: warm job 7 failed:',
      '  library/nope:latest: manifest unknown on every upstream',
      '  second problem',
    ]);
    expect(r.out).toBe('');
  });

  it('prints only the finished job with --json, and the job id at once with --detach', async () => {
    const done = fakeJob({ state: 'succeeded', progress: { objects_done: 2, objects_total: 2, bytes_done: 10, bytes_total: 10 } });
    const api = new FakeAdminApi().on('POST /registries/1/warm', { status: 202, body: fakeJob() }).on('GET /jobs/7', { body: done });
    const json = await vreg(api, 'warm 1 library/alpine:3.20 --json', { tty: true });
    expect(json).toMatchObject({ code: 0, stream: '' });
    expect(JSON.parse(json.out)).toEqual(done);
    const detached = await vreg(api, 'warm 1 library/alpine:3.20 --detach');
    expect(detached).toMatchObject({ code: 0, out: '7', err: 'Started warm job 7; follow it with: vreg jobs wait 7' });
  });

  it('refuses a bad reference or platform with exit code 2, before asking the server', async () => {
    const api = new FakeAdminApi();
    expect((await vreg(api, 'warm 1 library/alpine@')).code).toBe(2);
    expect((await vreg(api, 'warm 1 library/alpine:3 --platform amd64')).code).toBe(2);
    expect((await vreg(api, 'warm 1')).err).toBe('vreg: warm needs a registry id and <image>:<tag> (see vreg warm --help)');
    expect(api.requests).toHaveLength(0);
  });

  it('takes the colon of a registry host:port for part of the name, and a digest for the tag', async () => {
    const api = new FakeAdminApi().on('POST /registries/1/warm', { status: 202, body: fakeJob({ state: 'succeeded' }) });
    await vreg(api, 'warm 1 localhost:5000/team/app --detach');
    expect(api.requests[0]?.body).toMatchObject({ image: 'localhost:5000/team/app', tag: 'latest' });
    await vreg(api, 'warm 1 library/alpine@sha256:abcd --detach');
    expect(api.requests[1]?.body).toMatchObject({ image: 'library/alpine', tag: 'sha256:abcd' });
  });
});

describe('vreg gc, purge and jobs', () => {
  it('gc --dry-run waits for the job and prints its report', async () => {
    const api = new FakeAdminApi()
      .on('POST /gc', { status: 202, body: fakeJob({ id: '9', kind: 'gc', registry_id: null }) })
      .on('GET /jobs/9', {
        body: fakeJob({
          id: '9',
          kind: 'gc',
          registry_id: null,
          state: 'succeeded',
          result: { dry_run: true, objects_would_delete: 3, bytes_would_free: 3 * 1024 * 1024, digests: ['sha256:aa', 'sha256:bb'] },
        }),
      });
    const r = await vreg(api, 'gc --dry-run');
    expect(r.code).toBe(0);
    expect(api.requests[0]?.body).toEqual({ dry_run: true });
    expect(r.out).toBe('Dry run: 3 objects would be deleted, freeing 3.0 MiB.\n  sha256:aa\n  sha256:bb\n  … and 1 more');
  });

  it('purges a registry by image and tag, an upstream, and an entry, through their jobs', async () => {
    const finished = (id: string) => ({
      body: fakeJob({ id, kind: 'purge', state: 'succeeded', result: { entries_marked: 2, bytes_marked: 2048 } }),
    });
    const api = new FakeAdminApi()
      .on('DELETE /registries/1/cache', { status: 202, body: fakeJob({ id: '11', kind: 'purge' }) })
      .on('GET /jobs/11', finished('11'))
      .on('DELETE /upstreams/4/cache', { status: 202, body: fakeJob({ id: '12', kind: 'purge' }) })
      .on('GET /jobs/12', finished('12'))
      .on('DELETE /cache_entries/4-bGlicmFyeS9hbHBpbmUvbWFuaWZlc3RzLzMuMjA', { status: 202, body: fakeJob({ id: '13', kind: 'purge' }) })
      .on('GET /jobs/13', finished('13'));
    const r = await vreg(api, 'purge registry 1 --image library/alpine --tag 3.20');
    expect(r.code).toBe(0);
    expect(api.requests[0]).toMatchObject({ method: 'DELETE', path: '/registries/1/cache', query: '?image=library%2Falpine&tag=3.20' });
    expect(r.out).toBe('Purged 2 entries (2.0 KiB); they are never served again and GC frees their objects.');
    expect(r.err).toContain('purge library/alpine:3.20 in registry 1 succeeded');
    expect((await vreg(api, 'purge upstream 4')).code).toBe(0);
    expect((await vreg(api, 'entries delete 4-bGlicmFyeS9hbHBpbmUvbWFuaWZlc3RzLzMuMjA')).code).toBe(0);
    expect(api.requests.map((q) => `${q.method} ${q.path}`)).toEqual([
      'DELETE /registries/1/cache',
      'GET /jobs/11',
      'DELETE /upstreams/4/cache',
      'GET /jobs/12',
      'DELETE /cache_entries/4-bGlicmFyeS9hbHBpbmUvbWFuaWZlc3RzLzMuMjA',
      'GET /jobs/13',
    ]);
    expect((await vreg(api, 'entries delete ../../gc')).code).toBe(2);
    expect(await vreg(api, 'purge registry 1 --tag 3.20')).toMatchObject({ code: 2, err: 'vreg: --tag needs --image' });
    expect((await vreg(api, 'purge everything')).code).toBe(2);
  });

  it('shows and waits for a job by id', async () => {
    const api = new FakeAdminApi().on('GET /jobs/5', {
      body: fakeJob({
        id: '5',
        kind: 'cleanup',
        state: 'succeeded',
        progress: { objects_done: 4, objects_total: 4, bytes_done: 0, bytes_total: null },
        result: { deleted_entries_count: 4, deleted_size: 512, keep_n_days_after_download: 1, cutoff: '2030-01-01T00:00:00.000Z' },
      }),
    });
    const shown = await vreg(api, 'jobs show 5');
    expect(shown.out).toContain('job:      5 (cleanup)\nstate:    succeeded');
    expect(shown.out).toContain('result:\n  Cleanup deleted 4 entries (512 B), not downloaded since 2030-01-01T00:00:00.000Z.');
    expect(await vreg(api, 'jobs wait 5')).toMatchObject({
      code: 0,
      out: 'Cleanup deleted 4 entries (512 B), not downloaded since 2030-01-01T00:00:00.000Z.',
    });
    // A result this CLI does not know is shown field by field.
    api.on('GET /jobs/6', {
      body: fakeJob({ id: '6', kind: 'cleanup', state: 'succeeded', result: { swept_rows: 3, freed_bytes: 2048 } }),
    });
    expect((await vreg(api, 'jobs wait 6')).out).toBe('swept rows:  3\nfreed bytes: 2.0 KiB (2048 bytes)');
    expect(await vreg(api, 'jobs show 8')).toMatchObject({
      code: 1,
      err: 'vreg: the server at http://vreg.test:5000/api/v1 has no GET /jobs/8 (an older vreg?)',
    });
  });

  it('lists the newest jobs, one page of --limit', async () => {
    const api = new FakeAdminApi().on('GET /jobs', {
      body: [
        fakeJob({
          id: '9',
          kind: 'gc',
          state: 'running',
          registry_id: null,
          progress: { objects_done: 1, objects_total: 4, bytes_done: 0, bytes_total: null },
        }),
        fakeJob({ id: '8', errors: ['x'] }),
      ],
    });
    const r = await vreg(api, 'jobs list --kind gc --limit 5');
    expect(api.requests[0]?.query).toBe('?kind=gc&page=1&per_page=5');
    expect(r.out.split('\n')).toEqual([
      'ID  KIND  STATE    REGISTRY  PROGRESS               ERRORS  CREATED',
      '9   gc    running  -         1/4 objects  0 B  25%  0       2030-01-01T00:00:00.000Z',
      '8   warm  queued   1         0 objects  0 B  --%    1       2030-01-01T00:00:00.000Z',
    ]);
    expect((await vreg(api, 'jobs list --limit 500')).code).toBe(2);
    expect((await vreg(api, 'jobs list --kind nap')).code).toBe(2);
  });

  it('waits out a server that is briefly unreachable while following a job', async () => {
    let calls = 0;
    const api = new FakeAdminApi().on('POST /gc', { status: 202, body: fakeJob({ id: '3', kind: 'gc' }) });
    const flaky: typeof api.fetch = async (url, init) => {
      if (url.endsWith('/jobs/3') && ++calls <= 2) throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED') });
      return url.endsWith('/jobs/3')
        ? new Response(
            JSON.stringify(
              fakeJob({
                id: '3',
                kind: 'gc',
                state: 'succeeded',
                result: { dry_run: false, objects_deleted: 0, bytes_freed: 0, digests: [] },
              }),
            ),
          )
        : api.fetch(url, init);
    };
    const io = captureIo();
    expect(await runCli(['gc'], ENV, io, flaky)).toBe(0);
    expect(io.stdout).toEqual(['Deleted 0 objects, freed 0 B.']);
  });
});

describe('vreg entries, cleanup, usage and upstreams test', () => {
  it('lists entries with --search and --sort as a table', async () => {
    const api = new FakeAdminApi().on('GET /registries/1/cache_entries', {
      body: [
        {
          id: '2-bGlicmFyeS9hbHBpbmUvbWFuaWZlc3RzLzMuMjA',
          upstream_id: '2',
          relative_path: 'library/alpine/manifests/3.20',
          digest: 'sha256:aa',
          size: 1536,
          downloads_count: 4,
          downloaded_at: '2030-01-02T00:00:00.000Z',
          status: 'default',
          created_at: '2030-01-01T00:00:00.000Z',
        },
      ],
      headers: { 'x-next-page': '' },
    });
    const r = await vreg(api, 'entries list 1 --search alpine --sort -size');
    expect(r.code).toBe(0);
    expect(api.requests[0]?.query).toBe('?search=alpine&sort=-size&page=1&per_page=100');
    expect(r.out.split('\n')).toEqual([
      'ID                                         UPSTREAM  PATH                           SIZE     DOWNLOADS  LAST DOWNLOAD             STATUS',
      '2-bGlicmFyeS9hbHBpbmUvbWFuaWZlc3RzLzMuMjA  2         library/alpine/manifests/3.20  1.5 KiB  4          2030-01-02T00:00:00.000Z  default',
    ]);
    expect(await vreg(api, 'entries list 1 --sort biggest')).toMatchObject({ code: 2 });
  });

  it('shows a missing cleanup policy, sets one keeping what is not given, runs it and lists runs', async () => {
    const policy = {
      registry_id: '1',
      enabled: true,
      keep_n_days_after_download: 30,
      cadence: 7,
      next_run_at: '2030-01-08T00:00:00.000Z',
      last_run_at: null,
      last_run_deleted_entries_count: 0,
      last_run_deleted_size: 0,
      status: 'scheduled',
      failure_message: null,
    };
    const api = new FakeAdminApi()
      .on('GET /registries/1/cleanup_policy', [
        { status: 404, body: { errors: [{ code: 'NOT_FOUND', message: 'registry has no cleanup policy', detail: { registryId: '1' } }] } },
        { status: 404, body: { errors: [{ code: 'NOT_FOUND', message: 'registry has no cleanup policy', detail: { registryId: '1' } }] } },
        { body: policy },
      ])
      .on('GET /registries/9/cleanup_policy', {
        status: 404,
        body: { errors: [{ code: 'NOT_FOUND', message: 'registry not found', detail: { registryId: '9' } }] },
      })
      .on('POST /registries/2/cleanup_policy/run', {
        status: 404,
        body: { errors: [{ code: 'NOT_FOUND', message: 'registry has no cleanup policy', detail: { registryId: '2' } }] },
      })
      .on('DELETE /registries/1/cleanup_policy', { status: 204 })
      .on('PUT /registries/1/cleanup_policy', ({ body }) => ({ body: { ...policy, ...(body as object) } }))
      .on('POST /registries/1/cleanup_policy/run', { status: 202, body: fakeJob({ id: '8', kind: 'cleanup' }) })
      .on('GET /jobs/8', {
        body: fakeJob({ id: '8', kind: 'cleanup', state: 'succeeded', result: { deleted_entries_count: 1, deleted_size: 100 } }),
      })
      .on('GET /registries/1/cleanup_runs', {
        body: [
          {
            id: '1',
            registry_id: '1',
            job_id: '8',
            started_at: 'a',
            finished_at: 'b',
            keep_n_days_after_download: 30,
            deleted_entries_count: 2,
            deleted_size: 100,
            status: 'succeeded',
          },
        ],
      });
    expect(await vreg(api, 'cleanup show 1')).toMatchObject({
      code: 0,
      out: 'Registry 1 has no cleanup policy (vreg cleanup set 1 --keep-days N).',
    });
    expect(await vreg(api, 'cleanup show 9')).toMatchObject({ code: 1, err: 'vreg: registry 9 not found' });
    const set = await vreg(api, 'cleanup set 1 --keep-days 30');
    expect(set.code).toBe(0);
    expect(api.requests.find((q) => q.method === 'PUT')?.body).toEqual({ enabled: true, keep_n_days_after_download: 30, cadence: 7 });
    expect(set.out).toContain('keep:     30 days after the last download');
    await vreg(api, 'cleanup disable 1');
    expect(api.requests.filter((q) => q.method === 'PUT')[1]?.body).toEqual({ enabled: false, keep_n_days_after_download: 30, cadence: 7 });
    expect(await vreg(api, 'cleanup run 1')).toMatchObject({ code: 0, out: 'Cleanup deleted 1 entry (100 B).' });
    expect((await vreg(api, 'cleanup runs 1')).out).toMatch(/^ID +JOB +STARTED.*\n1 +8 +a +b +30 +2 +100 B +succeeded$/);
    expect(await vreg(api, 'cleanup run 2')).toMatchObject({
      code: 1,
      err: 'vreg: registry 2 has no cleanup policy (vreg cleanup set 2 --keep-days N)',
    });
    expect(await vreg(api, 'cleanup delete 1')).toMatchObject({
      code: 0,
      err: 'Deleted the cleanup policy of registry 1 (its runs stay listed).',
    });
    expect((await vreg(api, 'cleanup set 1 --cadence 3')).code).toBe(2);
    expect((await vreg(api, 'cleanup set 1 --keep-days 0')).code).toBe(2);
  });

  it('prints usage against the quota', async () => {
    const api = new FakeAdminApi().on('GET /registries/1/usage', {
      body: {
        registry_id: '1',
        stored_bytes: 512 * 1024,
        entries_count: 6,
        quota_bytes: 1024 * 1024,
        upstreams: [{ upstream_id: '2', name: 'a', stored_bytes: 512 * 1024, entries_count: 6 }],
      },
    });
    expect((await vreg(api, 'usage 1')).out).toBe(
      'Registry 1: 512.0 KiB in 6 entries, of 1.0 MiB quota (50%).\n\nUPSTREAM  NAME  STORED     ENTRIES\n2         a     512.0 KiB  6',
    );
  });

  it('upstreams test exits 1 unless the upstream answered ok, and reads a candidate password from stdin', async () => {
    const api = new FakeAdminApi()
      .on('POST /upstreams/3/test', { body: { success: false, result: 'unreachable', latency_ms: 12, message: 'connect ECONNREFUSED' } })
      .on('POST /upstreams/test', { body: { success: true, result: 'ok', http_status: 200, latency_ms: 5, message: 'registry answered' } });
    expect(await vreg(api, 'upstreams test 3')).toMatchObject({
      code: 1,
      out: 'unreachable in 12 ms: connect ECONNREFUSED',
      err: 'vreg: upstream 3 did not pass the test: unreachable',
    });
    const io = captureIo({ stdin: 'pw\n' });
    expect(
      await runCli(['upstreams', 'test', '--url', 'http://r.example:5000', '--username', 'u', '--password-stdin'], ENV, io, api.fetch),
    ).toBe(0);
    expect(io.stdout).toEqual(['ok (HTTP 200) in 5 ms: registry answered']);
    expect(api.requests.at(-1)?.body).toEqual({ url: 'http://r.example:5000', username: 'u', password: 'pw' });
    expect((await vreg(api, 'upstreams test 3 --url http://x')).code).toBe(2);
  });
});
