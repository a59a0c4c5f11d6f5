import express from 'express';
import type { AddressInfo } from 'node:net';
import { type Server, STATUS_CODES } from 'node:http';
import { bodyParserErrors, bodyReadError, requestMetrics, routeLabel } from './http';
import { MetricsService } from './metrics';

describe('requestMetrics', () => {
  let server: Server;
  let base: string;
  let metrics: MetricsService;

  beforeAll(async () => {
    metrics = new MetricsService('api');
    const app = express();
    app.use(requestMetrics(metrics));
    app.get('/api/letters/:id', (_req, res) => void res.json({ ok: true }));
    app.get('/boom', (_req, res) => void res.status(503).send('no'));
    const mounted = express.Router();
    mounted.get('/jobs/:id', (_req, res) => void res.send('job'));
    app.use('/admin/queues', mounted);
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  async function series(): Promise<string> {
    return (await metrics.registry.metrics()).split('\n').filter((l) => l.startsWith('mz_http_request_duration_seconds_count')).join('\n');
  }

  it('counts each request under its route pattern, method and status — never the raw path', async () => {
    for (const id of ['11111111-1111-1111-1111-111111111111', 'secret-token-abc', '3']) await (await fetch(`${base}/api/letters/${id}`)).text();
    await (await fetch(`${base}/boom`)).text();
    await (await fetch(`${base}/admin/queues/jobs/42`)).text();
    await (await fetch(`${base}/no/such/page/with-a-token-xyz`)).text();
    const text = await series();
    expect(text).toContain('mz_http_request_duration_seconds_count{service="api",method="GET",route="/api/letters/:id",status="200"} 3');
    expect(text).toContain('route="/boom",status="503"');
    expect(text).toContain('route="/admin/queues/jobs/:id",status="200"');
    expect(text).toContain('route="unmatched",status="404"');
    // A forged path full of ids or tokens never becomes a label.
    expect(text).not.toMatch(/secret-token|with-a-token|11111111/);
  });

  it('labels a request no route matched as unmatched', () => {
    expect(routeLabel({} as never)).toBe('unmatched');
    expect(routeLabel({ baseUrl: '/admin/queues' } as never)).toBe('/admin/queues/*');
  });
});

describe('bodyParserErrors', () => {
  let server: Server;
  let base: string;

  beforeAll(async () => {
    const app = express();
    app.use(express.json({ limit: '1kb' }));
    app.use(bodyParserErrors());
    app.post('/echo', (req, res) => void res.json(req.body));
    app.get('/fail', () => {
      throw new Error('not a parser error');
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise((r) => server.close(r)));

  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${base}/echo`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

  it("answers a parser's refusal in the api's error shape, never with the parser's own message", async () => {
    const cases: [Response, number, string][] = [
      [await post(JSON.stringify({ a: 'x'.repeat(2_000) })), 413, 'request body too large'],
      [await post('{"a": '), 400, 'request body is not valid JSON'],
      [await post('{}', { 'content-encoding': 'x-unknown' }), 415, 'unsupported Content-Encoding'],
      [await post('{}', { 'content-type': 'application/json; charset=koi8-r' }), 415, 'unsupported charset'],
    ];
    for (const [res, status, message] of cases) {
      expect(res.status).toBe(status);
      expect(await res.json()).toEqual({ statusCode: status, error: STATUS_CODES[status], message });
    }
    expect(await (await post('{"a":1}')).json()).toEqual({ a: 1 });
  });

  it('passes any other error on to the next handler', async () => {
    const res = await fetch(`${base}/fail`);
    expect(res.status).toBe(500);
    expect(await res.text()).not.toContain('request body');
  });

  it('maps an unknown parser failure to a 400', () => {
    expect(bodyReadError({ status: 400, type: 'request.aborted' })).toEqual({ statusCode: 400, error: 'Bad Request', message: 'could not read the request body' });
    expect(bodyReadError(undefined)).toMatchObject({ statusCode: 400 });
  });
});
