import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { describeAdminReach } from './support/admin-reach-scenarios.ts';
import { startEmbeddedWithLogs } from './support/auth-embedded.ts';
import { distributedEnv } from './support/distributed-env.ts';
import { startDistributedUnderTest, startService, stopService } from './support/distributed-under-test.ts';
import { startEmbeddedUnderTest } from './support/embedded-under-test.ts';
import { testEnv } from './support/test-env.ts';

describeAdminReach('embedded', () => startEmbeddedUnderTest());
describeAdminReach('distributed', () => startDistributedUnderTest());

describe('a weak VREG_ADMIN_TOKEN', () => {
  const weak = 'changeme-changeme-changeme-1234';

  it('is warned about at start-up in embedded mode, without the token in any log line', async () => {
    const vreg = await startEmbeddedWithLogs({ VREG_ADMIN_TOKEN: weak });
    try {
      expect((await vreg.admin.call('GET', '/registries')).status).toBe(200);
      const warning = vreg
        .logs()
        .split('\n')
        .find((l) => l.includes('VREG_ADMIN_TOKEN looks weak'));
      expect(warning).toBeDefined();
      expect(JSON.parse(warning as string)).toMatchObject({
        level: 40,
        reasons: expect.arrayContaining([expect.stringContaining('31 characters')]),
      });
      expect(vreg.logs()).not.toContain(weak);
      expect(vreg.logs()).not.toContain('changeme');
    } finally {
      await vreg.stop();
    }
  });

  it('is warned about by the catalog process, and a strong one is not', async () => {
    const t = testEnv();
    const id = randomBytes(4).toString('hex');
    const base = distributedEnv(t, { namespace: `w${id}`, db: `vreg_w${id}`, bucket: `vreg-w${id}` });
    const weakCatalog = await startService('catalog', { ...base, VREG_ADMIN_TOKEN: weak, VREG_LOG_LEVEL: 'info' });
    await stopService(weakCatalog);
    expect(weakCatalog.fullOutput()).toContain('VREG_ADMIN_TOKEN looks weak');
    expect(weakCatalog.fullOutput()).not.toContain('changeme');
    const strongCatalog = await startService('catalog', {
      ...base,
      VREG_ADMIN_TOKEN: randomBytes(32).toString('hex'),
      VREG_LOG_LEVEL: 'info',
    });
    await stopService(strongCatalog);
    expect(strongCatalog.fullOutput()).not.toContain('looks weak');
  });
});
