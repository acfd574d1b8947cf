#!/usr/bin/env node
// Docker HEALTHCHECK without curl: GET /healthz on the port this container's
// service serves it on (VREG_OPS_LISTEN when set, else its own port); exit 0
// on 200, 1 otherwise. Kubernetes uses its own httpGet probes instead.
import { readFileSync } from 'node:fs';

const DEFAULT_PORTS = { gateway: 5000, fetcher: 5003, catalog: 5002, embedded: 5000 };

/** The service PID 1 runs (`node vreg.mjs <service>`, or docker-init in front of it). */
function service() {
  try {
    const argv = readFileSync('/proc/1/cmdline', 'utf8').split('\0');
    return argv.find((a) => Object.hasOwn(DEFAULT_PORTS, a)) ?? 'gateway';
  } catch {
    return 'gateway';
  }
}

const listen = process.env.VREG_OPS_LISTEN || process.env.VREG_LISTEN || `0.0.0.0:${DEFAULT_PORTS[service()]}`;
const i = listen.lastIndexOf(':');
const bound = listen.slice(0, i).replace(/^\[|\]$/g, '');
const host = bound === '0.0.0.0' || bound === '::' || bound === '' ? '127.0.0.1' : bound;
const url = `http://${host.includes(':') ? `[${host}]` : host}:${listen.slice(i + 1)}/healthz`;
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
  process.exit(res.ok ? 0 : 1);
} catch (err) {
  process.stderr.write(`healthcheck ${url}: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
