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
 * cut, never a clean end of a short blob. A body that fails before its
 * first byte (a spool reader's `ready()`, a plain stream's first bytes)
 * rejects instead, before the reply is taken over.
 */
export async function sendBlob(request: FastifyRequest, reply: FastifyReply, body: BlobRead | Readable): Promise<void> {
  const res = reply.raw;
  const writeTo = 'writeTo' in body ? body.writeTo?.bind(body) : undefined;
  const stream = writeTo ? undefined : 'pipe' in body ? body : body.body;
  // Not taken over before the first byte is there: a miss whose fill fails before it (an
  // upstream whose bytes miss the digest, sent none, or too many) still gets an OCI error from
  // the caller's error handler, never a connection cut before a status line. A spool reader
  // says when (ready); a plain stream is watched for its first bytes.
  const ready = 'ready' in body && typeof body.ready === 'function' ? (body.ready as () => Promise<void>) : undefined;
  if (ready) await ready.call(body);
  else if (stream) await readyToSend(stream);
  const telemetry = streamedBody(request, reply);
  reply.hijack();
  res.writeHead(reply.statusCode, reply.getHeaders() as OutgoingHttpHeaders);
  if (writeTo) {
    try {
      await writeTo(res, { onWritten: (n) => telemetry.written(n) });
    } catch (err) {
      telemetry.ending();
      fail(request, res, err);
      return;
    }
    telemetry.ending();
    res.end();
    return;
  }
  if (!stream) return;
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

/**
 * Resolves once `stream` has bytes to read or has ended, taking none; rejects
 * with its error when it fails first. A quiet error listener stays on, so an
 * error between this and the pipeline is the pipeline's, not an uncaught one.
 */
function readyToSend(stream: Readable): Promise<void> {
  stream.on('error', () => undefined);
  if (stream.errored) return Promise.reject(stream.errored);
  if (stream.readableLength > 0 || stream.readableEnded || stream.destroyed) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const settle = (err?: Error | null): void => {
      // Removed before the pipeline starts, so the stream flows again once piped.
      stream.off('readable', onReady);
      stream.off('close', onReady);
      stream.off('error', settle);
      if (err) reject(err);
      else resolve();
    };
    const onReady = (): void => settle(stream.errored);
    stream.on('readable', onReady);
    stream.on('close', onReady);
    stream.on('error', settle);
  });
}

/** Cuts the connection (a mid-blob failure must not look like the end); a client that left is not news. */
function fail(request: FastifyRequest, res: ServerResponse, err: unknown): void {
  const code = (err as { code?: string }).code;
  if (code !== 'ERR_STREAM_PREMATURE_CLOSE' && !res.destroyed) request.log.warn({ err }, 'blob body failed mid-stream');
  res.destroy();
}
