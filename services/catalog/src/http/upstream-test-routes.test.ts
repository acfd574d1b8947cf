import { ErrorCodes, Subjects, type UpstreamTestReply, type UpstreamTestRequest, UpstreamTestRequestSchema } from '@vreg/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AdminApiHarness, startAdminApiHarness } from './testing/admin-api-harness.ts';

const SECRET = 'route-test-s3cret-pw';
const OK: UpstreamTestReply = {
  success: true,
  result: 'ok',
  httpStatus: 200,
  latencyMs: 12,
  message: 'https://registry.example/v2/ answered 200 with Basic credentials',
};

let api: AdminApiHarness;
/** What the stand-in fetcher received, as it crossed the bus. */
let received: UpstreamTestRequest[];
let replyWith: UpstreamTestReply;

/** Plays the fetcher's `upstream.test` responder. */
async function serveFetcher(): Promise<void> {
  await api.bus.serve(Subjects.upstreamTest, UpstreamTestRequestSchema, async (request) => {
    received.push(request);
    return replyWith;
  });
}

beforeEach(async () => {
  api = await startAdminApiHarness();
  received = [];
  replyWith = OK;
  await api.call('POST', '/registries', { name: 'containers' });
});
afterEach(async () => {
  await api.close();
});

describe('admin API: upstream test connection', () => {
  it('tests a candidate upstream: the password crosses the bus sealed, the answer is snake_case, nothing is stored', async () => {
    await serveFetcher();
    const res = await api.call('POST', '/upstreams/test', { url: 'https://registry.example/', username: 'bot', password: SECRET });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ success: true, result: 'ok', http_status: 200, latency_ms: 12, message: OK.message });
    expect(received).toHaveLength(1);
    const request = received[0] as UpstreamTestRequest;
    expect(request).toMatchObject({ url: 'https://registry.example', username: 'bot', timeoutMs: 10_000 });
    expect(JSON.stringify(request)).not.toContain(SECRET);
    expect(api.box.open(request.passwordSealed as string)).toBe(SECRET);
    expect(res.body).not.toContain(SECRET);
    expect(res.body).not.toContain(request.passwordSealed);
    expect((await api.call('GET', '/registries/1/upstreams')).json()).toEqual([]);
  });

  it('tests a candidate without credentials', async () => {
    await serveFetcher();
    expect((await api.call('POST', '/upstreams/test', { url: 'http://127.0.0.1:5001' })).statusCode).toBe(200);
    expect(received).toEqual([{ url: 'http://127.0.0.1:5001', timeoutMs: 10_000 }]);
  });

  it('tests a stored upstream with its stored sealed password, as stored', async () => {
    await serveFetcher();
    const created = (
      await api.call('POST', '/registries/1/upstreams', {
        name: 'private',
        url: 'https://registry.example',
        username: 'bot',
        password: SECRET,
      })
    ).json();
    const stored = await api.store.upstreams.get(created.id);
    const res = await api.call('POST', `/upstreams/${created.id}/test`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ success: true, result: 'ok' });
    expect(received).toEqual([
      { url: 'https://registry.example', username: 'bot', passwordSealed: stored?.passwordSealed, timeoutMs: 10_000 },
    ]);
    expect(res.body).not.toContain(SECRET);
  });

  it('answers 200 with success false for a failed test, without http_status when nothing answered', async () => {
    await serveFetcher();
    replyWith = {
      success: false,
      result: 'unreachable',
      latencyMs: 3,
      message: 'upstream http://127.0.0.1:9/v2/ unreachable: ECONNREFUSED',
    };
    const res = await api.call('POST', '/upstreams/test', { url: 'http://127.0.0.1:9' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ success: false, result: 'unreachable', latency_ms: 3, message: replyWith.message });
  });

  it('answers 404 NOT_FOUND for an unknown upstream, without asking the fetcher', async () => {
    await serveFetcher();
    const res = await api.call('POST', '/upstreams/42/test');
    expect(res.statusCode).toBe(404);
    expect(res.json().errors[0].code).toBe(ErrorCodes.notFound);
    expect(received).toEqual([]);
  });

  it('answers 503 FETCHER_UNAVAILABLE when no fetcher answers', async () => {
    const res = await api.call('POST', '/upstreams/test', { url: 'https://registry.example', username: 'bot', password: SECRET });
    expect(res.statusCode).toBe(503);
    expect(res.json().errors[0]).toMatchObject({
      code: ErrorCodes.fetcherUnavailable,
      message: expect.stringContaining('no fetcher answered'),
    });
    expect(res.body).not.toContain(SECRET);
  });

  it('answers 503 when the fetcher does not reply within the test deadline plus a margin', async () => {
    await api.close();
    api = await startAdminApiHarness({ upstreamTestTimeoutMs: 100 });
    let answerLate: (reply: UpstreamTestReply) => void = () => {};
    await api.bus.serve(
      Subjects.upstreamTest,
      UpstreamTestRequestSchema,
      () => new Promise<UpstreamTestReply>((resolve) => (answerLate = resolve)),
    );
    const started = Date.now();
    const res = await api.call('POST', '/upstreams/test', { url: 'https://registry.example' });
    answerLate(OK); // too late: the request gave up
    expect(res.statusCode).toBe(503);
    expect(res.json().errors[0].code).toBe(ErrorCodes.fetcherUnavailable);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
  });

  it.each([
    ['credentials in the URL', { url: 'https://bot:pw@registry.example' }],
    ['a URL that is not http(s)', { url: 'ftp://registry.example' }],
    ['a password without a username', { url: 'https://registry.example', password: SECRET }],
    ['an unknown field', { url: 'https://registry.example', passwordSealed: 'v2.x' }],
    ['no url', { username: 'bot', password: SECRET }],
  ])('answers 400 VALIDATION_FAILED for %s, never echoing the password', async (_what, body) => {
    await serveFetcher();
    const res = await api.call('POST', '/upstreams/test', body);
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0].code).toBe(ErrorCodes.validationFailed);
    expect(res.body).not.toContain(SECRET);
    expect(received).toEqual([]);
  });

  it('requires the admin token', async () => {
    const res = await api.server.inject({ method: 'POST', url: '/api/v1/upstreams/test', payload: { url: 'https://registry.example' } });
    expect(res.statusCode).toBe(401);
    expect((await api.server.inject({ method: 'POST', url: '/api/v1/upstreams/1/test' })).statusCode).toBe(401);
  });

  it('documents both routes in the OpenAPI document, with the result values, the write-only password and the 503', async () => {
    const doc = (await api.server.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json();
    const stored = doc.paths['/api/v1/upstreams/{id}/test'].post;
    const candidate = doc.paths['/api/v1/upstreams/test'].post;
    for (const op of [stored, candidate]) {
      const schema = op.responses['200'].content['application/json'].schema;
      expect(schema.properties.result.enum).toEqual(['ok', 'unauthorized', 'unreachable', 'not_a_registry', 'rate_limited', 'error']);
      expect(schema.required).toEqual(expect.arrayContaining(['success', 'result', 'latency_ms', 'message']));
      expect(schema.properties).toHaveProperty('http_status');
      expect(op.responses['503'].description).toContain('FETCHER_UNAVAILABLE');
    }
    const body = candidate.requestBody.content['application/json'].schema;
    expect(body.required).toEqual(['url']);
    expect(body.properties.password.writeOnly).toBe(true);
  });
});
