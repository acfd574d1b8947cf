export { FakeUpstreamRegistry } from './fake-upstream-registry.ts';
