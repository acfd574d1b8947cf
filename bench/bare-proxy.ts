import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNodeProgram } from './node-program.ts';
import type { PullTarget } from './pull-target.ts';

/** What a bare proxy does with the bytes it relays. */
export type BareProxyMode = 'pass-through' | 'verifying';

/**
 * The child's whole program: every GET goes to the upstream over one
 * keep-alive agent and its answer back to the client. `verifying` also
 * hashes every body with SHA-256, writes it to a file, and ends the
 * client's response only once the file has every byte and a blob's bytes
 * matched the digest it was asked for (else the response is cut): the
 * least a cache that never serves wrong bytes does per byte. No catalog,
 * no lease, no fsync, no second client: a floor, not a registry.
 */
const PROGRAM = `
const http = require('node:http');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const upstream = new URL(process.env.UPSTREAM);
const verifying = process.env.MODE === 'verifying';
const agent = new http.Agent({ keepAlive: true });
let files = 0;
const server = http.createServer((req, res) => {
  const headers = req.headers.accept ? { accept: req.headers.accept } : {};
  const up = http.request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers, agent }, (ur) => {
    const keep = {};
    for (const h of ['content-type', 'content-length', 'docker-content-digest']) if (ur.headers[h] !== undefined) keep[h] = ur.headers[h];
    res.writeHead(ur.statusCode, keep);
    if (!verifying || ur.statusCode !== 200) return ur.pipe(res);
    const hash = crypto.createHash('sha256');
    const file = fs.createWriteStream(path.join(process.env.DIR, String(files++)));
    ur.on('data', (chunk) => {
      hash.update(chunk);
      file.write(chunk);
      if (!res.write(chunk)) { ur.pause(); res.once('drain', () => ur.resume()); }
    });
    ur.on('error', () => res.destroy());
    ur.on('end', () => {
      const digest = 'sha256:' + hash.digest('hex');
      const wanted = /\\/blobs\\/(sha256:[0-9a-f]{64})$/.exec(req.url)?.[1];
      file.end(() => (wanted === undefined || wanted === digest ? res.end() : res.destroy()));
    });
  });
  up.on('error', () => res.destroy());
  up.end();
});
server.keepAliveTimeout = 30000;
server.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

/**
 * A bare node proxy in its own process in front of `upstreamUrl`: what one
 * proxy hop costs on this machine (`pass-through`), and that hop plus
 * hashing and writing every byte before the last one is released
 * (`verifying`). The cold pull is measured through both beside vreg and
 * distribution, so the floor under its target is shown, not argued.
 */
export async function startBareProxy(upstreamUrl: string, mode: BareProxyMode): Promise<PullTarget> {
  const dir = await mkdtemp(join(tmpdir(), 'vreg-bench-bare-proxy-'));
  const removeDir = (): Promise<void> => rm(dir, { recursive: true, force: true });
  const proxy = await startNodeProgram(`bare ${mode} proxy`, PROGRAM, { UPSTREAM: upstreamUrl, MODE: mode, DIR: dir }).catch(
    async (err) => {
      await removeDir();
      throw err;
    },
  );
  return {
    label: `bare node ${mode} proxy`,
    bases: [`${proxy.url}/v2`],
    pids: [proxy.pid],
    stop: async () => {
      await proxy.stop();
      await removeDir();
    },
  };
}
