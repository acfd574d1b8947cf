import { startEmbeddedUnderTest } from './support/embedded-under-test.ts';
import { describePullPolicy } from './support/policy-scenarios.ts';

describePullPolicy('embedded', async () => {
  const vreg = await startEmbeddedUnderTest();
  return { ...vreg, gatewayUrls: [vreg.gatewayUrl] };
});
