import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { chatTransport } from './chat-transport';

/** What the SDK relies on from its transport, against a real local HTTP server. */
describe('chatTransport', () => {
  let server: Server;
  let base: string;
  let handler: (req: IncomingMessage, body: string, res: ServerResponse) => void;
  const sockets = new Set<unknown>();
  const seen: { method?: string; headers: IncomingMessage['headers']; body: string }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      sockets.add(req.socket);
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ method: req.method, headers: req.headers, body });
        handler(req, body, res);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  beforeEach(() => {
    sockets.clear();
    seen.length = 0;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const completion = (content: string) => ({
    id: 'c1', object: 'chat.completion', created: 1, model: 'm',
    choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content, refusal: null } }],
    usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5, prompt_tokens_details: { cached_tokens: 1 } },
  });
  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  it('carries the SDK call whole (method, headers, JSON body, parsed answer) and keeps one socket for calls in a row', async () => {
    handler = (_req, _body, res) => json(res, 200, completion('{"ok":true}'));
    const client = new OpenAI({ baseURL: base, apiKey: 'sk-test', maxRetries: 0, fetch: chatTransport() });
    for (let i = 0; i < 3; i++) {
      const c = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: `hello ${i} — é` }] });
      expect(c.choices[0]?.message.content).toBe('{"ok":true}');
      expect(c.usage?.prompt_tokens_details?.cached_tokens).toBe(1);
    }
    expect(seen.map((s) => s.method)).toEqual(['POST', 'POST', 'POST']);
    expect(seen[0]?.headers.authorization).toBe('Bearer sk-test');
    expect(seen[0]?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(seen[2]!.body).messages[0].content).toBe('hello 2 — é');
    expect(sockets.size).toBe(1);
  });

  it('lets the SDK retry a 503 after its Retry-After and a 429, then succeed', async () => {
    const answers = [503, 429, 200];
    handler = (_req, _body, res) => {
      const status = answers.shift()!;
      if (status === 200) json(res, 200, completion('third time'));
      else json(res, status, { error: { message: 'busy', type: 'server_error' } }, { 'retry-after-ms': '10' });
    };
    const client = new OpenAI({ baseURL: base, apiKey: 'k', maxRetries: 2, fetch: chatTransport() });
    const c = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    expect(c.choices[0]?.message.content).toBe('third time');
    expect(seen).toHaveLength(3);
  });

  it("ends a call at the SDK's timeout as the SDK's timeout error (the abort reaches the socket)", async () => {
    handler = () => undefined; // never answers
    const client = new OpenAI({ baseURL: base, apiKey: 'k', maxRetries: 0, timeout: 150, fetch: chatTransport() });
    await expect(client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] })).rejects.toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
  });

  it('reports a refused connection as the SDK connection error', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'k', maxRetries: 0, fetch: chatTransport() });
    const err = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(err).not.toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
  });
});
