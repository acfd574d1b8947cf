import { describeAccessControl } from './support/auth-scenarios.ts';
import { startEmbeddedWithLogs } from './support/auth-embedded.ts';

describeAccessControl('embedded', () => startEmbeddedWithLogs());
