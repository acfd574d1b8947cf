import { generateKeyPairSync } from 'node:crypto';
import { cosignFixtures } from '@vreg/policy/testing';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConsole, eventually, screenshot, startChromium, textOf } from './support/console-browser.ts';
import { startEmbeddedUnderTest } from './support/embedded-under-test.ts';
import { testEnv } from './support/test-env.ts';

// The console's pull-policy page and its refused pulls, in Chromium against vreg in embedded mode.
const env = testEnv();
let vreg: Awaited<ReturnType<typeof startEmbeddedUnderTest>>;
let browser: Awaited<ReturnType<typeof startChromium>>;
let page: Page;
let registryId: string;
const pageProblems: string[] = [];

const pem = (type: 'ec' | 'ed25519'): string =>
  (type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519')).publicKey
    .export({ type: 'spki', format: 'pem' })
    .toString();

async function tokenFor(scopes: string[]): Promise<string> {
  const res = await vreg.admin.call<{ token: string }>('POST', '/access_tokens', { name: `console ${scopes.join(' ')}`, scopes });
  expect(res.status).toBe(201);
  return res.body.token;
}

async function signIn(token: string): Promise<void> {
  await page.goto(`${vreg.gatewayUrl}/console/`);
  await page.getByLabel('Access token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
}

beforeAll(async () => {
  buildConsole();
  vreg = await startEmbeddedUnderTest({ VREG_POLICY_DENIAL_FLUSH_MS: '200' });
  registryId = (await vreg.admin.createRegistry('policy-console')).id;
  await vreg.admin.addUpstream(registryId, { name: 'a', url: env.upstreamA });
  browser = await startChromium();
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
  page.on('pageerror', (err) => pageProblems.push(err.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content.Security.Policy|Refused to/i.test(m.text())) pageProblems.push(m.text());
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await vreg?.stop();
});

describe('console: pull policy', () => {
  it('builds a policy from the forms, refuses an Ed25519 key with the reason, and saves it for every gateway', async () => {
    await signIn(await tokenFor(['admin']));
    await page.goto(`${vreg.gatewayUrl}/console/registries/${registryId}/policy`);
    await page.getByRole('heading', { name: 'Pull policy' }).waitFor();
    expect(await textOf(page.getByText('This registry has no pull policy'))).toBeTruthy();
    const rule = page.getByRole('form', { name: 'Add a rule' });
    await rule.getByLabel('Action').selectOption('deny');
    await rule.getByLabel('Images (glob)').fill('secret/*');
    await rule.getByLabel('Name (optional)').fill('no-secrets');
    await rule.getByRole('button', { name: 'Add rule' }).click();
    await rule.getByLabel('Images (glob)').fill('**');
    await rule.getByLabel(/Only these tags/).fill('latest');
    await rule.getByRole('button', { name: 'Add rule' }).click();
    const key = page.getByRole('form', { name: 'Add a trusted key' });
    await key.getByLabel('Key name').fill('ed');
    await key.getByLabel(/Public key/).fill(pem('ed25519'));
    await key.getByRole('button', { name: 'Add key' }).click();
    await page.getByRole('form', { name: 'Signature mode' }).getByLabel('Signature verification').selectOption('audit');
    await page.getByRole('form', { name: 'Signature mode' }).getByRole('button', { name: 'Set mode' }).click();
    await page.getByRole('button', { name: 'Save policy' }).click();
    expect(await textOf(page.getByRole('alert').filter({ hasText: 'Ed25519' }))).toMatch(/Ed25519ph.*VALIDATION_FAILED/);
    await page.getByRole('button', { name: 'Remove key ed' }).click();
    await key.getByLabel('Key name').fill('release');
    await key.getByLabel(/Public key/).fill(pem('ec'));
    await key.getByRole('button', { name: 'Add key' }).click();
    // The reload a save starts can answer after the next edit on a busy machine: hold it until then, and the edit must survive it.
    let releaseReload = (): void => undefined;
    const reloadHeld = new Promise<void>((resolve) => {
      releaseReload = resolve;
    });
    await page.route('**/pull_policy', async (route) => {
      if (route.request().method() === 'GET') await reloadHeld;
      await route.continue();
    });
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    const stored = await vreg.admin.call<{ rules: unknown[]; signatures: { mode: string; keys: Array<{ name: string }> } }>(
      'GET',
      `/registries/${registryId}/pull_policy`,
    );
    expect(stored.body.rules).toEqual([
      { name: 'no-secrets', action: 'deny', image: 'secret/*' },
      { action: 'deny', image: '**', tags: ['latest'] },
    ]);
    expect(stored.body.signatures).toMatchObject({ mode: 'audit', keys: [{ name: 'release' }] });
    const rules = await textOf(page.getByRole('table', { name: 'Rules, first match decides' }));
    expect(rules).toContain('secret/*');
    expect(rules).toContain('no-secrets');
    // Keyless trust: a sigstore trusted root and a signer identity.
    const keyless = cosignFixtures.keyless();
    const trust = page.getByRole('form', { name: 'Trust keyless signatures' });
    await trust.getByLabel(/Trusted root/).fill(keyless.trustedRoot);
    await trust.getByLabel(/Signer/).fill('*@example.test');
    await trust.getByLabel('OIDC issuer').fill(keyless.identity.issuer);
    await trust.getByRole('button', { name: 'Trust this signer' }).click();
    await page.getByText(`by *@example.test (${keyless.identity.issuer})`).waitFor();
    const reloaded = page.waitForResponse((r) => r.url().endsWith('/pull_policy') && r.request().method() === 'GET');
    releaseReload();
    await reloaded;
    await page.unroute('**/pull_policy');
    await page.getByText(/^Last changed/).waitFor();
    await page.getByRole('button', { name: 'Save policy' }).click();
    // The draft shows the signer before it is saved: "Saved" is what says the PUT was answered.
    await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    expect(await textOf(page.getByText(`by *@example.test (${keyless.identity.issuer})`))).toBeTruthy();
    const withKeyless = await vreg.admin.call<{ signatures: { keyless: { identities: unknown[] } | null } }>(
      'GET',
      `/registries/${registryId}/pull_policy`,
    );
    expect(withKeyless.body.signatures.keyless?.identities).toEqual([{ subject: '*@example.test', issuer: keyless.identity.issuer }]);
  });

  it('lists refused pulls on the registry and on the refused-pulls page', async () => {
    const res = await fetch(`${vreg.gatewayUrl}/v2/virtual_registries/containers/${registryId}/secret/app/manifests/v1`);
    expect(res.status).toBe(403);
    expect((await fetch(`${vreg.gatewayUrl}/v2/virtual_registries/containers/${registryId}/library/busybox/manifests/latest`)).status).toBe(
      403,
    );
    await page.getByRole('link', { name: 'Refused pulls' }).click();
    // The page's own title: the registry page left behind has a "Refused pulls" section heading too.
    await page.getByRole('heading', { name: 'Refused pulls', level: 1 }).waitFor();
    const refused = page.getByRole('table', { name: 'Refused pulls' });
    const table = await eventually(
      async () => {
        await page.getByRole('button', { name: 'Refresh' }).click();
        // No table until the first refusal is recorded: read it only when it is there, never wait for it before refreshing again.
        return (await refused.count()) === 0 ? '' : ((await refused.textContent()) ?? '');
      },
      (text) => text.includes('secret/app') && text.includes('library/busybox'),
      'refused pulls listed',
      30_000,
    );
    expect(table).toContain('rule 1 “no-secrets”');
    expect(table).toContain('rule 2');
    expect(table).toContain('anonymous');
    await screenshot(page, 'refused-pulls');
    await page.goto(`${vreg.gatewayUrl}/console/registries/${registryId}/policy`);
    await page.getByRole('table', { name: 'Refused pulls' }).waitFor();
    await screenshot(page, 'pull-policy');
  });

  it('shows a read-only token the policy and its refusals, with nothing to change', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(await tokenFor(['read_virtual_registry']));
    await page.goto(`${vreg.gatewayUrl}/console/registries/${registryId}/policy`);
    await page.getByRole('table', { name: 'Rules, first match decides' }).waitFor();
    expect(await page.getByRole('button', { name: 'Save policy' }).count()).toBe(0);
    expect(await page.getByRole('form', { name: 'Add a rule' }).count()).toBe(0);
    await page.getByRole('table', { name: 'Refused pulls' }).waitFor();
  });

  it('ran without a script error or a Content-Security-Policy violation', () => {
    expect(pageProblems).toEqual([]);
  });
});
