#!/usr/bin/env node
// The container's entry point: `vreg gateway|fetcher|catalog|embedded`.
// One image, the process chosen by command. The bundle runs in this same
// process (no child, so SIGTERM reaches the service's own handler directly).
const DEFAULT_PORTS = { gateway: 5000, fetcher: 5003, catalog: 5002, embedded: 5000 };

const [command] = process.argv.slice(2);
if (!command || !Object.hasOwn(DEFAULT_PORTS, command)) {
  process.stderr.write(`usage: vreg <${Object.keys(DEFAULT_PORTS).join('|')}>\n`);
  process.exit(64);
}
// A server in a container must listen on all interfaces to be reached; the
// services' own default (127.0.0.1) suits a laptop, not a pod.
process.env.VREG_LISTEN ??= `0.0.0.0:${DEFAULT_PORTS[command]}`;
await import(`./${command}.mjs`);
