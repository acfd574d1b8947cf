import { startNodeProgram } from './node-program.ts';
import type { PullTarget } from './pull-target.ts';

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
  const server = await startNodeProgram('bare node http server', PROGRAM, {
    BODY_B64: manifest.body.toString('base64'),
    CONTENT_TYPE: manifest.contentType,
    DIGEST: manifest.digest,
  });
  return { label: 'bare node http', bases: [`${server.url}/v2`], pids: [server.pid], stop: server.stop };
}
