/**
 * Hosts the fake LLM (OpenAI-compatible, latency L) and the SMTP sink (TestSmtpServer, parse off)
 * in a process of their own, so their CPU is measured apart from the services' and the harness's
 * polling never delays an answer. Controlled over IPC.
 */
import { FakeLlmServer } from '../../fakes/fake-llm-server';
import { TestSmtpServer } from '../../fakes/test-smtp-server';
import { serve } from './child-ipc';

async function main(): Promise<void> {
  const llm = await FakeLlmServer.start({ latencyMs: Number(process.env.LLM_LATENCY_MS ?? 0) });
  const smtp = await TestSmtpServer.start({ parse: false });
  const stats = () => {
    const msgs = smtp.messages;
    let first = Infinity;
    let last = 0;
    let bytes = 0;
    for (const m of msgs) {
      first = Math.min(first, m.receivedAt);
      last = Math.max(last, m.receivedAt);
      bytes += m.raw.length;
    }
    return {
      count: msgs.length,
      firstAt: msgs.length ? first : null,
      lastAt: msgs.length ? last : null,
      meanBytes: msgs.length ? Math.round(bytes / msgs.length) : null,
      connections: smtp.connectionCount(),
      llmRequests: llm.requests.length,
    };
  };
  serve({
    info: () => ({ llmUrl: llm.url, smtpUrl: smtp.url }),
    setLatency: (ms: number) => llm.setLatency(ms),
    setOutage: (status: number | null) => llm.setOutage(status),
    stats,
    // Captured requests and messages are dropped between rounds: they would otherwise hold
    // hundreds of MB over a 100k run.
    reset: () => {
      const s = stats();
      llm.reset();
      smtp.reset();
      return s;
    },
    /** Count of messages received so far (cheap; polled). */
    count: () => smtp.messages.length,
  });
  process.on('SIGTERM', () => {
    void Promise.all([llm.close(), smtp.close()]).finally(() => process.exit(0));
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
