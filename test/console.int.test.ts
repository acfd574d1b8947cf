import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConsole, eventually, isFocused, refresh, screenshot, startChromium, textOf } from './support/console-browser.ts';
import { startEmbeddedUnderTest } from './support/embedded-under-test.ts';
import { hostOf, skopeoPull } from './support/skopeo.ts';
import { testEnv } from './support/test-env.ts';

// The web console in Debian's Chromium against vreg in embedded mode:
// every click goes through the public admin API, pulls through the gateway with skopeo.
const env = testEnv();
let vreg: Awaited<ReturnType<typeof startEmbeddedUnderTest>>;
let browser: Awaited<ReturnType<typeof startChromium>>;
let page: Page;
let adminToken: string;
let registryId: string;
/** Script errors and Content-Security-Policy violations seen in any page: there must be none. */
const pageProblems: string[] = [];

async function createToken(body: object): Promise<{ id: string; token: string }> {
  const res = await vreg.admin.call<{ id: string; token: string }>('POST', '/access_tokens', body);
  expect(res.status).toBe(201);
  return res.body;
}

async function signIn(p: Page, token: string): Promise<void> {
  await p.getByLabel('Access token').fill(token);
  await p.getByRole('button', { name: 'Sign in' }).click();
}

beforeAll(async () => {
  buildConsole();
  // Hits reach the catalog in 200 ms batches, so the hit ratio moves within the test.
  vreg = await startEmbeddedUnderTest({ VREG_SERVED_FLUSH_MS: '200' });
  adminToken = (await createToken({ name: 'console e2e', scopes: ['admin'] })).token;
  browser = await startChromium();
  browser.context.on('page', (p) => watchProblems(p));
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
  watchProblems(page);
}, 120_000);

function watchProblems(p: Page): void {
  p.on('pageerror', (err) => pageProblems.push(`${p.url()}: ${err.message}`));
  p.on('console', (message) => {
    if (message.type() === 'error' && /Content.Security.Policy|Refused to/i.test(message.text()))
      pageProblems.push(`${p.url()}: ${message.text()}`);
  });
}

afterAll(async () => {
  await browser?.close();
  await vreg?.stop();
});

/** Series colours of the overview's charts (packages/console/src/pages/overview-charts.tsx). */
const CHART_COLORS = { cache: '#0b5cad', upstream: '#b35900', ratio: '#1b6e20' };

/** Canvas pixels within a small distance of `color`: a series was drawn, not only the axes and grid. */
function pixelsOf(canvas: Locator, color: string): Promise<number> {
  // The root tsconfig has no DOM types: `c` is the page's <canvas>, its pixels RGBA bytes.
  return canvas.evaluate((c, hex: string) => {
    const want = [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));
    const data: ArrayLike<number> = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < data.length; i += 4)
      if ((data[i + 3] ?? 0) > 200 && want.every((v, k) => Math.abs((data[i + k] ?? 0) - v) < 24)) n += 1;
    return n;
  }, color);
}

/** The text of the elements `aria-describedby` points at. */
function descriptionOf(locator: Locator): Promise<string> {
  return locator.evaluate((el) =>
    (el.getAttribute('aria-describedby') ?? '')
      .split(' ')
      .map((id: string) => el.ownerDocument.getElementById(id)?.textContent ?? '')
      .join(' '),
  );
}

/** The rows of the charts' data table (opened with the keyboard from the Refresh button), cells as text. */
async function chartTableRows(window: 'one-minute' | '15-minute'): Promise<string[][]> {
  await page.getByRole('button', { name: 'Refresh' }).focus();
  await page.keyboard.press('Tab');
  const disclosure = page.getByText('Chart data as a table');
  expect(await isFocused(disclosure)).toBe(true);
  if ((await page.locator('details.chart-data').getAttribute('open')) === null) await page.keyboard.press('Enter');
  const table = page.getByRole('table', { name: new RegExp(`^Traffic per ${window} interval`) });
  await table.waitFor();
  return table.locator('tbody tr').evaluateAll((rows) => rows.map((tr) => [...tr.children].map((cell) => cell.textContent ?? '')));
}

/**
 * The three charts after a miss and a hit of every object of one image:
 * each canvas drawn with its series' colours, its text alternative saying
 * 50 %, and the data table behind them adding up to the totals, with bytes
 * both from upstream and from the cache, in the hour and in the day.
 */
async function checkCharts(objects: number): Promise<void> {
  const charts = {
    ratio: page.getByRole('img', { name: 'Hit ratio' }),
    requests: page.getByRole('img', { name: 'Requests: hits and misses' }),
    bytes: page.getByRole('img', { name: 'Bytes from the cache and from upstreams' }),
  };
  for (const chart of Object.values(charts)) {
    const box = await chart.locator('canvas').boundingBox();
    expect(box?.width).toBeGreaterThan(100);
    expect(box?.height).toBeGreaterThan(100);
  }
  expect(await pixelsOf(charts.ratio.locator('canvas'), CHART_COLORS.ratio)).toBeGreaterThan(0);
  for (const chart of [charts.requests, charts.bytes]) {
    expect(await pixelsOf(chart.locator('canvas'), CHART_COLORS.cache)).toBeGreaterThan(0);
    expect(await pixelsOf(chart.locator('canvas'), CHART_COLORS.upstream)).toBeGreaterThan(0);
  }
  expect(await descriptionOf(charts.ratio)).toContain(`Hit ratio 50.0 % in the last hour (${objects} hits, ${objects} misses)`);
  expect(await descriptionOf(charts.requests)).toContain(`${objects} hits and ${objects} misses in the last hour`);
  expect(await descriptionOf(charts.bytes)).toMatch(
    /^[\d.]+ (B|KiB|MiB) served from the cache and [\d.]+ (B|KiB|MiB) fetched from upstreams/,
  );

  for (const [window, interval] of [
    ['24h', '15-minute'],
    ['1h', 'one-minute'],
  ] as const) {
    await page.getByLabel('Window').selectOption(window);
    // The old window's charts stay up while the new one loads, with Refresh disabled.
    await eventually(
      async () =>
        `${await descriptionOf(charts.ratio)} ${(await page.getByRole('button', { name: 'Refresh' }).isEnabled()) ? 'ready' : ''}`,
      (text) => text.includes(window === '24h' ? 'in the last day' : 'in the last hour') && text.endsWith('ready'),
      `charts of ${window}`,
    );
    const rows = await chartTableRows(interval);
    expect(rows.length).toBeGreaterThan(0);
    const column = (i: number) => rows.map((r) => r[i] ?? '');
    expect(column(1).reduce((n, v) => n + Number(v), 0)).toBe(objects);
    expect(column(2).reduce((n, v) => n + Number(v), 0)).toBe(objects);
    expect(column(4).some((v) => v !== '0 B')).toBe(true);
    expect(column(5).some((v) => v !== '0 B')).toBe(true);
  }
  // Closed again, so the page's first table is the top images, as before.
  await page.keyboard.press('Enter');
}

describe('web console', () => {
  it('is served at /console/ with a strict Content-Security-Policy', async () => {
    const res = await fetch(`${vreg.gatewayUrl}/console/registries`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(await res.text()).toContain('<div id="root">');
  });

  it('signs in with the keyboard only, and shows the API message for a wrong token', async () => {
    await page.goto(`${vreg.gatewayUrl}/console/`);
    const tokenField = page.getByLabel('Access token');
    await tokenField.waitFor();
    await screenshot(page, 'sign-in');
    expect(await isFocused(tokenField)).toBe(true);
    await page.keyboard.type('vregat_this-token-does-not-exist-000000');
    await page.keyboard.press('Enter');
    expect(await textOf(page.getByRole('alert'))).toContain('not valid');

    await tokenField.fill('');
    await tokenField.focus();
    await page.keyboard.type(adminToken);
    await page.keyboard.press('Tab');
    expect(await isFocused(page.getByRole('button', { name: 'Sign in' }))).toBe(true);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    expect(await textOf(page.getByTestId('hit-ratio'))).toBe('0.0 %');
  });

  it('creates a registry', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Registries' }).click();
    await page.getByRole('heading', { name: 'Registries', level: 1 }).waitFor();
    await page.getByLabel('Name').fill('console-e2e');
    await page.getByLabel('Description').fill('made by the browser test');
    // Public: skopeo pulls without logging in.
    await page.getByLabel('Visibility').selectOption('public');
    await page.getByRole('button', { name: 'Create registry' }).click();
    await page.getByRole('heading', { name: 'Registry “console-e2e”' }).waitFor();
    registryId = /\/registries\/(\d+)/.exec(page.url())?.[1] ?? '';
    expect(registryId).toMatch(/^\d+$/);
    expect(await textOf(page.getByLabel('Pull command', { exact: true }))).toBe(
      `docker pull ${hostOf(vreg.gatewayUrl)}/virtual_registries/containers/${registryId}/library/alpine:latest`,
    );
    const listed = await vreg.admin.call<{ name: string; visibility: string }>('GET', `/registries/${registryId}`);
    expect(listed.body).toMatchObject({ name: 'console-e2e', visibility: 'public' });

    const settings = page.getByRole('form', { name: 'Registry settings' });
    await settings.getByLabel('Description').fill('pull-through cache made by the browser test');
    await settings.getByRole('button', { name: 'Save registry' }).click();
    await settings.getByText('Saved.').waitFor();
    expect((await vreg.admin.call<{ description: string }>('GET', `/registries/${registryId}`)).body.description).toBe(
      'pull-through cache made by the browser test',
    );
  });

  it('adds an upstream and tests its connection', async () => {
    await page.getByLabel('Upstream name').fill('registry A');
    await page.getByLabel('Upstream URL').fill(env.upstreamA);
    await page.getByRole('button', { name: 'Test before adding' }).click();
    expect(await textOf(page.getByTestId('test-result'))).toContain('Connection OK');
    await page.getByRole('button', { name: 'Add upstream' }).click();
    const row = page.getByRole('listitem', { name: 'Upstream registry A' });
    await row.waitFor();
    await row.getByRole('button', { name: 'Test connection to registry A' }).click();
    expect(await textOf(row.getByTestId('test-result'))).toMatch(/Connection OK: .* · HTTP 200 · \d+ ms/);

    // A second upstream, moved first with the keyboard-reachable button.
    await page.getByLabel('Upstream name').fill('registry B');
    await page.getByLabel('Upstream URL').fill(env.upstreamB);
    await page.getByRole('button', { name: 'Add upstream' }).click();
    await page.getByRole('button', { name: 'Move registry B up' }).click();
    await eventually(
      () => page.getByRole('listitem').first().getAttribute('aria-label'),
      (v) => v === 'Upstream registry B',
      'first upstream',
    );
    await page.getByRole('button', { name: 'Move registry B down' }).click();
    await eventually(
      () => page.getByRole('listitem').first().getAttribute('aria-label'),
      (v) => v === 'Upstream registry A',
      'first upstream',
    );
    // And by drag and drop: B onto A's place, then back.
    await page.getByRole('listitem', { name: 'Upstream registry B' }).dragTo(page.getByRole('listitem', { name: 'Upstream registry A' }));
    await eventually(
      () => page.getByRole('listitem').first().getAttribute('aria-label'),
      (v) => v === 'Upstream registry B',
      'first upstream after a drag',
    );
    const order = await vreg.admin.call<Array<{ name: string }>>('GET', `/registries/${registryId}/upstreams`);
    expect(order.body.map((u) => u.name)).toEqual(['registry B', 'registry A']);
    await page.getByRole('listitem', { name: 'Upstream registry A' }).dragTo(page.getByRole('listitem', { name: 'Upstream registry B' }));
    await eventually(
      () => page.getByRole('listitem').first().getAttribute('aria-label'),
      (v) => v === 'Upstream registry A',
      'first upstream after a drag back',
    );

    // Edit: the cache validity of B.
    const b = page.getByRole('listitem', { name: 'Upstream registry B' });
    await b.getByRole('button', { name: 'Edit' }).click();
    await b.getByLabel('Cache validity (hours, 0 = never revalidate)').fill('6');
    await b.getByRole('button', { name: 'Save upstream' }).click();
    expect(await textOf(b.getByText('cache validity 6 h'))).toContain('6 h');
    await screenshot(page, 'registry-upstreams');
  });

  it('shows the pulled image in the cache entries and the hit ratio rising', async () => {
    const ref = `${hostOf(vreg.gatewayUrl)}/virtual_registries/containers/${registryId}/library/busybox:latest`;
    await skopeoPull(env.skopeo, ref);

    await page.getByRole('link', { name: 'Overview' }).click();
    const misses = await eventually(
      async () => {
        await refresh(page);
        return Number(await textOf(page.getByTestId('misses')));
      },
      (n) => n >= 3,
      'misses after the first pull',
    );
    expect(await textOf(page.getByTestId('hit-ratio'))).toBe('0.0 %');

    await skopeoPull(env.skopeo, ref);
    const ratio = await eventually(
      async () => {
        await refresh(page);
        return textOf(page.getByTestId('hit-ratio'));
      },
      (text) => text !== '0.0 %',
      'hit ratio after the second pull',
    );
    expect(Number.parseFloat(ratio)).toBeGreaterThan(0);
    expect(Number(await textOf(page.getByTestId('misses')))).toBe(misses);
    expect(await textOf(page.getByRole('table', { name: 'Top images' }))).toContain('library/busybox');

    // The second pull asked for the objects the first one stored: once its hits are all in, one hit per miss.
    await eventually(
      async () => {
        await refresh(page);
        return textOf(page.getByTestId('hit-ratio'));
      },
      (text) => text === '50.0 %',
      'hit ratio once every hit of the second pull is counted',
    );
    expect(Number(await textOf(page.getByTestId('hits')))).toBe(misses);
    await checkCharts(misses);

    // An upstream nobody answers at: the gateway's failed request shows under upstream errors.
    const broken = await vreg.admin.createRegistry('broken');
    const dead = await vreg.admin.addUpstream(broken.id, { name: 'nobody home', url: 'http://127.0.0.1:9' });
    const failed = await fetch(`${vreg.gatewayUrl}/v2/virtual_registries/containers/${broken.id}/library/busybox/manifests/latest`);
    expect(failed.status).toBeGreaterThanOrEqual(400);
    const errors = page.getByRole('table', { name: 'Upstream errors' });
    const errorText = await eventually(
      async () => {
        await refresh(page);
        return (await errors.count()) === 0 ? '' : ((await errors.textContent()) ?? '');
      },
      (text) => text.includes('127.0.0.1:9'),
      'upstream errors',
    );
    expect(errorText).toContain(`(upstream ${dead.id})`);
    expect((await vreg.admin.call('DELETE', `/registries/${broken.id}`)).status).toBe(204);
    await screenshot(page, 'overview');

    await page.goto(`${vreg.gatewayUrl}/console/registries/${registryId}/entries`);
    const entries = page.getByRole('table', { name: 'Cache entries' });
    expect(await textOf(entries)).toContain('library/busybox/manifests/latest');
    await page.getByRole('searchbox', { name: 'Image' }).fill('busybox');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByLabel('Sort by').selectOption('-size');
    await eventually(
      async () => (await entries.getByRole('row').count()) - 1,
      (n) => n >= 3,
      'entry rows',
    );
    await screenshot(page, 'cache-entries');
  });

  it('deletes a cache entry through its purge job', async () => {
    const entries = page.getByRole('table', { name: 'Cache entries' });
    const tagRow = entries.getByRole('row').filter({ hasText: 'library/busybox/manifests/latest' });
    await tagRow.getByRole('button', { name: 'Delete' }).click();
    await tagRow.getByRole('button', { name: 'Delete entry library/busybox/manifests/latest' }).click();
    await page.getByText(/purge job \S+: succeeded/).waitFor({ timeout: 20_000 });
    // Purged entries are never served again at once; the destruction worker removes their rows later.
    await eventually(
      async () => {
        const rows = entries.getByRole('row').filter({ hasText: 'library/busybox/manifests/latest' });
        return (await rows.count()) === 0 ? 'gone' : ((await rows.first().textContent()) ?? '');
      },
      (text) => text === 'gone' || text.includes('pending_destruction'),
      'deleted entry row',
    );
    const listed = await vreg.admin.call<Array<{ relative_path: string; status: string }>>(
      'GET',
      `/registries/${registryId}/cache_entries?search=busybox`,
    );
    expect(listed.body.filter((e) => e.relative_path === 'library/busybox/manifests/latest' && e.status === 'default')).toEqual([]);
  });

  it('warms an image and follows its job to the end', async () => {
    await page.getByLabel('Image to warm').fill('team/app/api');
    await page.getByLabel('Tag').fill('1.0');
    await page.getByRole('button', { name: 'Warm up' }).click();
    const job = page.getByRole('region', { name: /^warm job / });
    await job.getByText(/warm job \S+: succeeded/).waitFor({ timeout: 30_000 });
    expect(await textOf(job)).toMatch(/(\d+) of \1 objects/);
    await page.getByRole('searchbox', { name: 'Image' }).fill('team/app/api');
    await page.getByRole('button', { name: 'Search' }).click();
    // The warmed objects become entries as the catalog consumes their object.stored events.
    await eventually(
      async () => {
        await refresh(page);
        return textOf(page.getByRole('table', { name: 'Cache entries' }));
      },
      (text) => text.includes('team/app/api/manifests/1.0') && !text.includes('library/busybox'),
      'warmed entries',
    );
  });

  it('sets a cleanup policy, runs it and shows the last run', async () => {
    await page.getByRole('link', { name: 'Cleanup policy' }).click();
    await page.getByRole('heading', { name: 'Cleanup policy' }).waitFor();
    expect(await textOf(page.getByText('This registry has no cleanup policy.'))).toBeTruthy();
    await page.getByLabel('Keep entries downloaded in the last (days)').fill('14');
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.getByRole('button', { name: 'Run cleanup now' }).click();
    await page.getByText(/cleanup job \S+: succeeded/).waitFor({ timeout: 20_000 });
    // The policy reloads when its job ends: the last run has a time and counts.
    const summary = await eventually(
      () => textOf(page.getByLabel('Last cleanup run')),
      (t) => !t.includes('Last run—'),
      'last cleanup run',
    );
    expect(summary).toMatch(/Entries deleted\d+/);
    expect(summary).toMatch(/Bytes freed[\d.]+ (B|KiB|MiB)/);
    await screenshot(page, 'cleanup-policy');
  });

  it('sets the hosts the registry mirrors, shows their containerd files, and a conflict as the API words it', async () => {
    await page.getByRole('link', { name: 'Mirror hosts' }).click();
    await page.getByRole('heading', { name: 'Mirror hosts' }).waitFor();
    const form = page.getByRole('form', { name: 'Mirror hosts' });
    await form.getByLabel('Mirrored hosts').fill('registry-1.docker.io, ghcr.io');
    await form.getByRole('button', { name: 'Save mirror hosts' }).click();
    await form.getByText('Saved.').waitFor();
    expect((await vreg.admin.call('GET', `/registries/${registryId}/mirror_hosts`)).body).toEqual({
      registry_id: registryId,
      hosts: ['docker.io', 'ghcr.io'],
    });
    expect(await form.getByLabel('Mirrored hosts').inputValue()).toBe('docker.io ghcr.io');
    const files = await textOf(page.getByLabel('containerd hosts.toml'));
    expect(files).toContain(
      `# /etc/containerd/certs.d/docker.io/hosts.toml\nserver = "https://registry-1.docker.io"\n\n[host."${vreg.gatewayUrl}"]`,
    );
    expect(files).toContain('# /etc/containerd/certs.d/ghcr.io/hosts.toml');
    const other = await vreg.admin.createRegistry('quay-mirror');
    await vreg.admin.call('PUT', `/registries/${other.id}/mirror_hosts`, { hosts: ['quay.io'] });
    await form.getByLabel('Mirrored hosts').fill('docker.io quay.io');
    await form.getByRole('button', { name: 'Save mirror hosts' }).click();
    expect(await textOf(form.getByRole('alert'))).toContain(`quay.io is already mirrored by registry ${other.id}`);
    expect((await vreg.admin.call<{ hosts: string[] }>('GET', `/registries/${registryId}/mirror_hosts`)).body.hosts).toEqual([
      'docker.io',
      'ghcr.io',
    ]);
    await screenshot(page, 'mirror-hosts');
    expect((await vreg.admin.call('DELETE', `/registries/${other.id}`)).status).toBe(204);
  });

  it('creates an access token shown once, and a revoked token is refused by the console', async () => {
    await page.getByRole('link', { name: 'Access tokens' }).click();
    await page.getByLabel('Token name').fill('second admin');
    await page.getByRole('checkbox', { name: /^admin \(/ }).check();
    await page.getByRole('button', { name: 'Create token' }).click();
    const secret = await textOf(page.getByTestId('new-token'));
    expect(secret).toMatch(/^vregat_/);
    await screenshot(page, 'access-tokens', [page.getByTestId('new-token')]);

    // Another tab (its own sessionStorage) signs in with the new token.
    const other = await browser.context.newPage();
    await other.goto(`${vreg.gatewayUrl}/console/`);
    await signIn(other, secret);
    await other.getByRole('heading', { name: 'Overview' }).waitFor();

    await page.getByRole('button', { name: 'Done' }).click();
    const row = page.getByRole('row').filter({ hasText: 'second admin' });
    await row.getByRole('button', { name: 'Revoke' }).click();
    await row.getByRole('button', { name: 'Revoke token second admin' }).click();
    await eventually(
      () => textOf(row),
      (t) => t.includes('revoked'),
      'revoked row',
    );

    // Its next API call answers 401: the console signs it out, and refuses the token again.
    await other.getByRole('button', { name: 'Refresh' }).click();
    expect(await textOf(other.getByRole('status'))).toContain('Signed out');
    await signIn(other, secret);
    expect(await textOf(other.getByRole('alert'))).toContain('not valid');
    await other.close();
  });

  it('gives a read_virtual_registry token a read-only console', async () => {
    const viewer = await createToken({ name: 'viewer', scopes: ['read_virtual_registry'] });
    const view = await browser.context.newPage();
    await view.goto(`${vreg.gatewayUrl}/console/registries`);
    await signIn(view, viewer.token);
    await view.getByText('viewer (read-only)').waitFor();
    await view.goto(`${vreg.gatewayUrl}/console/registries`);
    await view.getByRole('link', { name: 'console-e2e' }).waitFor();
    expect(await view.getByRole('button', { name: 'Create registry' }).count()).toBe(0);
    expect(await view.getByRole('link', { name: 'Access tokens' }).count()).toBe(0);
    await view.getByRole('link', { name: 'console-e2e' }).click();
    await view.getByRole('listitem', { name: 'Upstream registry A' }).waitFor();
    expect(await view.getByRole('button', { name: 'Add upstream' }).count()).toBe(0);
    expect(await view.getByRole('button', { name: /^Test connection/ }).count()).toBe(0);
    await screenshot(view, 'read-only');
    await view.close();

    // Restricted to one registry: the overview (every registry) says so instead of failing.
    await vreg.admin.createRegistry('not-yours');
    const restricted = await createToken({ name: 'one registry', scopes: ['read_virtual_registry'], registry_ids: [registryId] });
    const narrow = await browser.context.newPage();
    await narrow.goto(`${vreg.gatewayUrl}/console/`);
    await signIn(narrow, restricted.token);
    expect(await textOf(narrow.getByRole('status'))).toContain(`restricted to registries ${registryId}`);
    await narrow.getByRole('link', { name: 'Registries' }).first().click();
    await narrow.getByRole('link', { name: 'console-e2e' }).waitFor();
    expect(await narrow.getByRole('link', { name: 'not-yours' }).count()).toBe(0);
    await narrow.close();
    await page.goto(`${vreg.gatewayUrl}/console/registries`);
    await page.getByRole('link', { name: 'console-e2e' }).waitFor();
    await screenshot(page, 'registries');

    // Past one page (50), the list pages with the API's X-Total headers.
    for (let i = 0; i < 50; i++) await vreg.admin.createRegistry(`filler-${i}`);
    await page.reload();
    const pager = page.getByRole('navigation', { name: 'Registries pages' });
    expect(await textOf(pager)).toContain('Page 1 of 2 (52 in all)');
    await pager.getByRole('button', { name: 'Next page' }).click();
    await page.getByRole('link', { name: 'filler-49' }).waitFor();
    expect(await textOf(pager)).toContain('Page 2 of 2');
  });

  it('gives an admin token restricted to one registry a console within it: no registry creation, tokens only for it', async () => {
    const team = await createToken({ name: 'team admin', scopes: ['admin'], registry_ids: [registryId] });
    const teamPage = await browser.context.newPage();
    await teamPage.goto(`${vreg.gatewayUrl}/console/`);
    await signIn(teamPage, team.token);
    await teamPage.getByText(`team admin · registries ${registryId}`).waitFor();
    await teamPage.getByRole('link', { name: 'Registries' }).first().click();
    await teamPage.getByRole('link', { name: 'console-e2e' }).waitFor();
    expect(await teamPage.getByRole('link', { name: 'not-yours' }).count()).toBe(0);
    expect(await teamPage.getByRole('button', { name: 'Create registry' }).count()).toBe(0);
    expect(await textOf(teamPage.getByRole('note'))).toContain('creating a registry needs a token that is not restricted');

    await teamPage.getByRole('link', { name: 'Access tokens' }).click();
    // Only the tokens within its registry are listed: itself, not the unrestricted ones.
    await teamPage.getByRole('row').filter({ hasText: 'team admin' }).waitFor();
    expect(await teamPage.getByRole('row').filter({ hasText: 'console e2e' }).count()).toBe(0);
    await teamPage.getByLabel('Token name').fill('team ci');
    const create = teamPage.getByRole('button', { name: 'Create token' });
    expect(await create.isDisabled()).toBe(true);
    await teamPage.getByRole('checkbox', { name: `console-e2e (${registryId})` }).check();
    await create.click();
    expect(await textOf(teamPage.getByTestId('new-token'))).toMatch(/^vregat_/);
    const listed = await vreg.admin.call<Array<{ name: string; registry_ids?: string[] }>>('GET', '/access_tokens?per_page=100');
    expect(listed.body.find((t) => t.name === 'team ci')?.registry_ids).toEqual([registryId]);
    await teamPage.close();
  });

  it('ran every page without a script error or a Content-Security-Policy violation', () => {
    expect(pageProblems).toEqual([]);
  });
});
