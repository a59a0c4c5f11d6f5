import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { type AppConfig, parseConfig } from '@mz/contracts';
import { Clock, MetricsService } from '@mz/platform';
import { LlmCircuit } from './llm-circuit';
import { LlmClient } from './llm.client';
import { jsonSchemaResponseFormat } from './structured-output';
import { z } from 'zod';

// Counts the calls that go through the real chatTransport.
const mockCounter = { viaChatTransport: 0 };
jest.mock('./chat-transport', () => {
  const actual = jest.requireActual('./chat-transport');
  return {
    chatTransport: () => {
      const fetch = actual.chatTransport();
      return (...args: unknown[]) => {
        mockCounter.viaChatTransport++;
        return fetch(...args);
      };
    },
  };
});

/** Which transport each of LlmClient's calls goes through (docs/architecture.md §7), against a real server. */
describe('LlmClient transports', () => {
  let server: Server;
  let base: string;
  const seen: { path: string; contentType: string }[] = [];

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      req.resume();
      req.on('end', () => {
        seen.push({ path: req.url ?? '', contentType: String(req.headers['content-type'] ?? '') });
        res.writeHead(200, { 'content-type': 'application/json' });
        if (req.url === '/v1/chat/completions') {
          res.end(JSON.stringify({
            id: 'c1', object: 'chat.completion', created: 1, model: 'm',
            choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: '{"ok":true}', refusal: null } }],
            usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
          }));
        } else if (req.url === '/v1/files') {
          res.end(JSON.stringify({ id: 'file-1', object: 'file', bytes: 1, created_at: 1, filename: 'letters.jsonl', purpose: 'batch' }));
        } else {
          res.end(JSON.stringify({ id: 'batch-1', object: 'batch', endpoint: '/v1/chat/completions', status: 'validating', input_file_id: 'file-1', completion_window: '24h', created_at: 1 }));
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  function client(): LlmClient {
    const config = { ...parseConfig({}), LLM_BASE_URL: base, LLM_MAX_RETRIES: 0 } as AppConfig;
    const metrics = new MetricsService('composer');
    return new LlmClient(config, metrics, new LlmCircuit(config, new Clock(), metrics), pino({ level: 'silent' }));
  }

  it('sends chat completions through chatTransport, and the Batch API upload (multipart) through the SDK default', async () => {
    const llm = client();
    const done = await llm.complete({
      purpose: 'letter', model: 'm', temperature: 0.5, messages: [{ role: 'user', content: 'hi' }],
      responseFormat: jsonSchemaResponseFormat('answer', z.object({ ok: z.boolean() })),
    });
    expect(done.content).toBe('{"ok":true}');
    expect(mockCounter.viaChatTransport).toBe(1);

    const batch = await llm.submitBatch([{ customId: 'l1', body: { model: 'm', messages: [{ role: 'user', content: 'hi' }] } }]);
    expect(batch).toEqual({ id: 'batch-1', inputFileId: 'file-1' });
    expect(mockCounter.viaChatTransport).toBe(1);
    expect(seen.map((s) => s.path)).toEqual(['/v1/chat/completions', '/v1/files', '/v1/batches']);
    expect(seen[1]?.contentType).toMatch(/^multipart\/form-data; boundary=/);
  });
});
