import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { pipeline, type Readable } from 'node:stream';
import type { BlobRead } from '@vreg/blob-store';
import { streamedBody } from '@vreg/telemetry';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Writes a blob answer straight to the connection: the reply's status and
 * headers, then the bytes, with nothing between the read and the socket
 * (fastify's stream path adds a pipe and the telemetry a counting
 * Transform per chunk; a stored blob's read reuses its buffers instead).
 *
 * The reply is taken over (`reply.hijack()`), so headers must be set
 * before this is called (onSend hooks do not run; onResponse still does).
 * A body that fails part-way destroys the connection: the client sees a
 * cut, never a clean end of a short blob.
 */
export async function sendBlob(request: FastifyRequest, reply: FastifyReply, body: BlobRead | Readable): Promise<void> {
  const res = reply.raw;
  const telemetry = streamedBody(request, reply);
  reply.hijack();
  res.writeHead(reply.statusCode, reply.getHeaders() as OutgoingHttpHeaders);
  if ('writeTo' in body && typeof body.writeTo === 'function') {
    try {
      await body.writeTo(res, { onWritten: (n) => telemetry.written(n) });
    } catch (err) {
      telemetry.ending();
      fail(request, res, err);
      return;
    }
    telemetry.ending();
    res.end();
    return;
  }
  const stream = 'pipe' in body ? body : body.body;
  stream.on('data', (chunk: Buffer) => telemetry.written(chunk.length));
  // Before the pipeline ends the response: the request's span closes with it.
  stream.once('end', () => telemetry.ending());
  await new Promise<void>((resolve) => {
    pipeline(stream, res, (err) => {
      if (err) {
        telemetry.ending();
        fail(request, res, err);
      }
      resolve();
    });
  });
}

/** Cuts the connection (a mid-blob failure must not look like the end); a client that left is not news. */
function fail(request: FastifyRequest, res: ServerResponse, err: unknown): void {
  const code = (err as { code?: string }).code;
  if (code !== 'ERR_STREAM_PREMATURE_CLOSE' && !res.destroyed) request.log.warn({ err }, 'blob body failed mid-stream');
  res.destroy();
}
