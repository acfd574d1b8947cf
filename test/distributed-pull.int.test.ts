import { startDistributedUnderTest } from './support/distributed-under-test.ts';
import { describeAbandonedFill, describePullThrough } from './support/pull-scenarios.ts';

describePullThrough('distributed', () => startDistributedUnderTest());
describeAbandonedFill('distributed', () => startDistributedUnderTest());
