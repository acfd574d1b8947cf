import { describeAbandonedFill, describePullThrough } from './support/pull-scenarios.ts';
import { startDistributedUnderTest } from './support/distributed-under-test.ts';

describePullThrough('distributed', () => startDistributedUnderTest());
describeAbandonedFill('distributed', () => startDistributedUnderTest());
