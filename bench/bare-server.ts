import { spawn } from 'node:child_process';
import { freePort } from '../test/support/distributed-under-test.ts';
import { outputTail, type PullTarget, waitForOk } from './pull-target.ts';
import { stopChild } from './vreg-targets.ts';

/** The child's whole program: answer every GET with the same bytes, keep-alive, nothing else. */
const PROGRAM = `
const http = require('node:http');
const body = Buffer.from(process.env.BODY_B64, 'base64');
const headers = { 'content-type': process.env.CONTENT_TYPE, 'content-length': String(body.length), 'docker-content-digest': process.env.DIGEST };
const server = http.createServer((req, res) => { res.writeHead(200, headers); res.end(body); });
server.keepAliveTimeout = 30000;
server.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

/**
 * A bare node http server in its own process that answers any URL with one
 * fixed manifest: the floor a registry's manifest latency is measured
 * against on this machine, with this load generator. Its base serves
 * `<base>/<anything>/manifests/<anything>`.
 */
export async function startBareServer(manifest: { body: Buffer; digest: string; contentType: string }): Promise<PullTarget> {
  const port = await freePort();
  const child = spawn(process.execPath, ['-e', PROGRAM], {
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      BODY_B64: manifest.body.toString('base64'),
      CONTENT_TYPE: manifest.contentType,
      DIGEST: manifest.digest,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = outputTail();
  child.stdout.on('data', out.keep);
  child.stderr.on('data', out.keep);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForOk('bare node http server', `${url}/v2/`, 10_000, () => (child.exitCode === null ? undefined : out.text()));
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  return { label: 'bare node http', bases: [`${url}/v2`], pids: [child.pid!], stop: () => stopChild(child) };
}
