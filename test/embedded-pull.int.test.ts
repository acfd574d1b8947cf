import { describeAbandonedFill, describePullThrough } from './support/pull-scenarios.ts';
import { startEmbeddedUnderTest } from './support/embedded-under-test.ts';

describePullThrough('embedded', () => startEmbeddedUnderTest());
describeAbandonedFill('embedded', () => startEmbeddedUnderTest());
