import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type OpsRoutesOptions, opsRequestListener } from './ops-routes.ts';

/** The ops listener: `/metrics`, `/healthz` and `/readyz` on an address of their own. */
export interface OpsServer {
  /** `http://host:port` it listens on (the port chosen when 0 was asked for). */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves `/metrics`, `/healthz` and `/readyz` on `listen` (`host:port`,
 * VREG_OPS_LISTEN), apart from the public port: the metrics name upstream
 * hosts and count per registry, and the readiness report names buckets and
 * servers, none of which a registry's clients need to see. Kubernetes
 * probes and Prometheus reach it inside the cluster. Anything else there is
 * 404; connections are few and short, so Node's default timeouts suffice.
 */
export async function startOpsServer(listen: string, options: OpsRoutesOptions): Promise<OpsServer> {
  const i = listen.lastIndexOf(':');
  const host = listen.slice(0, i).replace(/^\[|\]$/g, '');
  const server: Server = createServer(opsRequestListener(options));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(listen.slice(i + 1)), host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
