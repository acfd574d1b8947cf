import { startDistributedUnderTest } from './support/distributed-under-test.ts';
import { startEmbeddedUnderTest } from './support/embedded-under-test.ts';
import { describeWarm } from './support/warm-scenarios.ts';

// Real NATS, FerretDB and moto with the three services as processes; then all in one process.
describeWarm('distributed', () => startDistributedUnderTest());
describeWarm('embedded', () => startEmbeddedUnderTest());
