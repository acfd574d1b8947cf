import { startEmbeddedUnderTest } from './support/embedded-under-test.ts';
import { describeAbandonedFill, describePullThrough } from './support/pull-scenarios.ts';

describePullThrough('embedded', () => startEmbeddedUnderTest());
describeAbandonedFill('embedded', () => startEmbeddedUnderTest());
