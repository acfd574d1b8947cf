import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient } from './admin-client.ts';
import { getFrom } from './auth-clients.ts';
import type { VregUnderTest } from './pull-scenarios.ts';
import { AttackClasses, recordAttacks } from './security-record.ts';
import { testEnv } from './test-env.ts';

const SOURCE = 'test/support/admin-reach-scenarios.ts';

interface Created {
  id: string;
  token: string;
}

type Answer = { status: number; body: { errors?: Array<{ code: string; message: string }> } & Record<string, unknown> };

/**
 * The admin API as an attacker holding a token restricted to one registry
 * uses it, against a real vreg: everything beyond that registry is refused,
 * lists count only what the token may see (GET and HEAD alike), and guessed
 * admin tokens are throttled per client address.
 */
export function describeAdminReach(mode: string, start: () => Promise<VregUnderTest>): void {
  describe(`admin API reach and throttling (${mode} mode)`, () => {
    const env = testEnv();
    let vreg: VregUnderTest;
    const ids = { mine: '', victim: '', third: '', victimUpstream: '', victimJob: '' };
    let team: Created;

    const as = (token: string) => new AdminClient(vreg.admin.baseUrl, token);
    const created = async (client: AdminClient, body: Record<string, unknown>): Promise<Created> => {
      const res = await client.call<Created>('POST', '/access_tokens', body);
      if (res.status !== 201) throw new Error(`create token: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    };

    beforeAll(async () => {
      vreg = await start();
      ids.mine = (await vreg.admin.createRegistry(`team-${mode}`, { visibility: 'private' })).id;
      ids.victim = (await vreg.admin.createRegistry(`victim-${mode}`, { visibility: 'private' })).id;
      ids.third = (await vreg.admin.createRegistry(`third-${mode}`, { visibility: 'private' })).id;
      for (let i = 0; i < 3; i += 1) await vreg.admin.createRegistry(`other-${mode}-${i}`);
      ids.victimUpstream = (await vreg.admin.addUpstream(ids.victim, { name: 'a', url: env.upstreamA })).id;
      ids.victimJob = (await vreg.admin.call<{ id: string }>('DELETE', `/registries/${ids.victim}/cache`)).body.id;
      team = await created(vreg.admin, { name: 'team admin', scopes: ['admin', 'read_virtual_registry'], registry_ids: [ids.mine] });
    });
    afterAll(async () => vreg?.stop());

    it('refuses a token restricted to one registry everything about another registry, global routes and wider tokens', async () => {
      const tally = recordAttacks(
        AttackClasses.adminScopeEscalation,
        `a restricted admin token reaches beyond its registry (${mode})`,
        SOURCE,
      );
      const attacker = as(team.token);
      const before = await vreg.admin.call<Record<string, unknown>>('GET', `/registries/${ids.victim}`);
      const tokensBefore = await vreg.admin.call<unknown[]>('GET', '/access_tokens?per_page=100');
      const attempts: Array<[string, string, unknown?]> = [
        ['PATCH', `/registries/${ids.victim}`, { description: 'pwned', visibility: 'public' }],
        ['DELETE', `/registries/${ids.victim}`],
        ['GET', `/registries/${ids.victim}`],
        ['GET', `/registries/${ids.victim}/upstreams`],
        ['POST', `/registries/${ids.victim}/upstreams`, { name: 'evil', url: env.upstreamA }],
        ['GET', `/upstreams/${ids.victimUpstream}`],
        ['PATCH', `/upstreams/${ids.victimUpstream}`, { url: env.upstreamA }],
        ['DELETE', `/upstreams/${ids.victimUpstream}`],
        ['POST', `/upstreams/${ids.victimUpstream}/test`],
        ['GET', `/upstreams/${ids.victimUpstream}/cache_entries`],
        ['GET', `/registries/${ids.victim}/cache_entries`],
        ['DELETE', `/registries/${ids.victim}/cache`],
        ['DELETE', `/upstreams/${ids.victimUpstream}/cache`],
        ['DELETE', `/cache_entries/${ids.victimUpstream}-${Buffer.from('library/busybox/manifests/latest').toString('base64url')}`],
        ['GET', `/registries/${ids.victim}/usage`],
        ['PUT', `/registries/${ids.victim}/cleanup_policy`, { enabled: true, keep_n_days_after_download: 1, cadence: 1 }],
        ['POST', `/registries/${ids.victim}/cleanup_policy/run`],
        ['GET', `/registries/${ids.victim}/cleanup_runs`],
        ['POST', `/registries/${ids.victim}/warm`, { image: 'library/busybox', tag: 'latest' }],
        ['GET', `/jobs/${ids.victimJob}`],
        ['POST', '/registries', { name: `new-${mode}` }],
        ['POST', '/gc', { dry_run: false }],
        ['GET', '/stats/overview'],
        ['POST', '/access_tokens', { name: 'root', scopes: ['admin'] }],
        ['POST', '/access_tokens', { name: 'wider', scopes: ['admin'], registry_ids: [ids.mine, ids.victim] }],
        ['POST', '/access_tokens', { name: 'theirs', scopes: ['read_virtual_registry'], registry_ids: [ids.victim] }],
        ['PATCH', `/registries/${ids.mine}`, { max_stored_bytes: 1 }],
        ['PUT', `/registries/${ids.mine}/mirror_hosts`, { hosts: ['docker.io'] }],
        ['GET', `/registries/${ids.victim}/mirror_hosts`],
      ];
      for (const [method, path, body] of attempts) {
        const res = (await attacker.call(method, path, body)) as Answer;
        tally.tried();
        expect({ method, path, status: res.status, code: res.body?.errors?.[0]?.code }).toEqual({
          method,
          path,
          status: 403,
          code: 'DENIED',
        });
      }
      // Nothing changed: the other registry, its upstream, the token list.
      expect(await vreg.admin.call('GET', `/registries/${ids.victim}`)).toEqual(before);
      expect((await vreg.admin.call('GET', `/upstreams/${ids.victimUpstream}`)).status).toBe(200);
      expect((await vreg.admin.call<unknown[]>('GET', '/access_tokens?per_page=100')).body).toHaveLength(tokensBefore.body.length);

      // Its own registry it administers, and a token it mints is as narrow as itself.
      expect((await attacker.call('PATCH', `/registries/${ids.mine}`, { description: 'ours' })).status).toBe(200);
      const minted = await created(attacker, { name: 'ci', scopes: ['admin'], registry_ids: [ids.mine] });
      for (const [method, path, body] of [
        ['PATCH', `/registries/${ids.victim}`, { description: 'pwned' }],
        ['POST', '/access_tokens', { name: 'x', scopes: ['admin'] }],
      ] as const) {
        const res = (await as(minted.token).call(method, path, body)) as Answer;
        tally.tried();
        expect(res.status, `${method} ${path}`).toBe(403);
      }
      expect((await vreg.admin.call<{ description?: string }>('GET', `/registries/${ids.victim}`)).body.description).toBeUndefined();
    });

    it('counts and pages only the registries, jobs and tokens a restricted token may see, HEAD as GET', async () => {
      const tally = recordAttacks(AttackClasses.infoLeaks, `a restricted token's lists reveal hidden registries (${mode})`, SOURCE);
      const reader = await created(vreg.admin, {
        name: 'two registries',
        scopes: ['read_virtual_registry'],
        registry_ids: [ids.mine, ids.third],
      });
      const all = await vreg.admin.call<unknown[]>('GET', '/registries?per_page=100');
      expect(all.body.length).toBeGreaterThanOrEqual(6);
      for (const token of [reader.token, team.token]) {
        const mineOnly = token === team.token;
        const expected = mineOnly ? [ids.mine] : [ids.mine, ids.third];
        const seen: string[] = [];
        for (let page = 1; page <= 3; page += 1) {
          const res = await fetch(`${vreg.admin.baseUrl}/api/v1/registries?page=${page}&per_page=1`, {
            headers: { authorization: `Bearer ${token}` },
          });
          const head = await fetch(`${vreg.admin.baseUrl}/api/v1/registries?page=${page}&per_page=1`, {
            method: 'HEAD',
            headers: { authorization: `Bearer ${token}` },
          });
          tally.tried(2);
          const body = (await res.json()) as Array<{ id: string }>;
          seen.push(...body.map((r) => r.id));
          const headers = (r: Response) =>
            ['x-total', 'x-total-pages', 'x-page', 'x-next-page', 'x-prev-page'].map((h) => `${h}=${r.headers.get(h)}`);
          expect(head.status).toBe(200);
          expect(await head.text()).toBe('');
          expect(headers(head)).toEqual(headers(res));
          expect(res.headers.get('x-total')).toBe(String(expected.length));
          expect(res.headers.get('x-total-pages')).toBe(String(expected.length));
          expect(body.length).toBe(page <= expected.length ? 1 : 0);
        }
        expect(seen).toEqual(expected);
      }
      // Jobs of other registries (and GC's) are neither listed nor counted.
      const jobs = await fetch(`${vreg.admin.baseUrl}/api/v1/jobs?per_page=100`, { headers: { authorization: `Bearer ${team.token}` } });
      tally.tried();
      expect(((await jobs.json()) as Array<{ registry_id: string }>).every((j) => j.registry_id === ids.mine)).toBe(true);
      expect(jobs.headers.get('x-total')).toBe('0');
    });

    it('throttles wrong admin tokens per client address with 429 and Retry-After, while the right token keeps working', async () => {
      const tally = recordAttacks(AttackClasses.bruteForce, `40 wrong admin bearer tokens from one address (${mode})`, SOURCE);
      const url = `${vreg.admin.baseUrl}/api/v1/registries`;
      const statuses: number[] = [];
      let throttled: { retryAfter: unknown; body: string } | undefined;
      for (let i = 0; i < 40; i += 1) {
        const guess = i % 2 === 0 ? `vregat_${randomBytes(32).toString('base64url')}` : randomBytes(24).toString('hex');
        const res = await getFrom('127.0.0.3', url, { authorization: `Bearer ${guess}` });
        tally.tried();
        statuses.push(res.status);
        if (res.status === 429) throttled ??= { retryAfter: res.headers['retry-after'], body: res.body };
      }
      expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
      expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(10);
      expect(statuses.slice(-20).every((s) => s === 429)).toBe(true);
      expect(String(throttled?.retryAfter)).toMatch(/^[1-9][0-9]*$/);
      expect(JSON.parse(throttled?.body ?? '{}')).toMatchObject({ errors: [{ code: 'TOOMANYREQUESTS', message: expect.any(String) }] });
      // Throttled before the token is even checked: the right one from that address waits too...
      const right = await getFrom('127.0.0.3', url, { authorization: `Bearer ${vreg.admin.token}` });
      expect(right.status).toBe(429);
      // ...while every other address is unaffected.
      expect((await getFrom('127.0.0.4', url, { authorization: `Bearer ${vreg.admin.token}` })).status).toBe(200);
      expect((await vreg.admin.call('GET', '/registries')).status).toBe(200);
    });
  });
}
