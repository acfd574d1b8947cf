import { startEmbeddedWithLogs } from './support/auth-embedded.ts';
import { describeAccessControl } from './support/auth-scenarios.ts';

describeAccessControl('embedded', () => startEmbeddedWithLogs());
