import { startDistributedUnderTest } from './support/distributed-under-test.ts';
import { describePullPolicy } from './support/policy-scenarios.ts';

// Two gateways: a platform manifest is asked of another replica than the one that judged its index.
describePullPolicy('distributed', () => startDistributedUnderTest({}, { gateways: 2 }));
