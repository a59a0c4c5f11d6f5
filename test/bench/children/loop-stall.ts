/**
 * R9: the longest event-loop stall of a process while inbound's MessageParser (from dist) parses a
 * 2 MB format=flowed mail and a mail whose To: holds 100,000 addresses. Two probes: Node's
 * monitorEventLoopDelay histogram (1 ms resolution) and a 1 ms interval that records the largest
 * gap between its ticks. For contrast, the same mails parsed by mailparser on the main thread.
 *
 * The R9 figure itself is read inside the inbound service (bench.ts, phase 'inbound'); this finer
 * probe (1 ms instead of prom-client's 10 ms) isolates the parser's own main-thread costs (copy,
 * transfer, result deserialisation) and shows what parsing on the main thread would cost.
 */
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { simpleParser } from 'mailparser';
import { flowedMail, manyAddressMail, replyHeaders } from '../bench-mail';
import { requireEnv, serve } from './child-ipc';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { MessageParser } = require(join(requireEnv('MZ_DIST'), 'apps/inbound/src/analysis/parse-message.js'));

interface Probe {
  stop(): { maxGapMs: number; histogramMaxMs: number; p99Ms: number };
}

function probe(): Probe {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  let last = performance.now();
  let maxGap = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last - 1);
    last = now;
  }, 1);
  return {
    stop() {
      clearInterval(timer);
      h.disable();
      // Include the gap still open when we stop (a stall right at the end).
      maxGap = Math.max(maxGap, performance.now() - last - 1);
      return { maxGapMs: maxGap, histogramMaxMs: h.max / 1e6, p99Ms: h.percentile(99) / 1e6 };
    },
  };
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function measure(label: string, raw: Buffer, parse: (raw: Buffer) => Promise<unknown>) {
  await settle(50);
  const p = probe();
  const started = performance.now();
  let outcome: string;
  try {
    const result = (await parse(raw)) as { text?: string; to?: unknown[] | { value?: unknown[] } };
    const to = Array.isArray(result?.to) ? result.to.length : (result?.to?.value?.length ?? 0);
    outcome = `ok, text ${typeof result?.text === 'string' ? result.text.length : 0} chars, ${to} To addresses kept`;
  } catch (err) {
    outcome = `error ${(err as { code?: string }).code ?? ''} ${(err as Error).message}`.slice(0, 160);
  }
  const parseMs = performance.now() - started;
  await settle(30); // a stall caused by the reply arriving is caught too
  return { label, bytes: raw.length, parseMs, outcome, ...p.stop() };
}

async function main(): Promise<void> {
  const flowed = flowedMail();
  const addresses = manyAddressMail(100_000, true);
  const verbose = manyAddressMail(100_000, false);
  serve({
    run: async ({ rounds, reference }: { rounds: number; reference: boolean }) => {
      const parser = new MessageParser();
      try {
        // The first parse spawns the worker thread: reported separately as the cold cost.
        const cold = await measure('cold start (worker spawn + tiny mail)', Buffer.from(replyHeaders(['To: a@b.example'], 'text/plain') + '\r\n\r\nhi\r\n'), (r) => parser.parse(r));
        const runs = [];
        for (let i = 0; i < rounds; i++) {
          runs.push(await measure('2 MB format=flowed', flowed, (r) => parser.parse(r)));
          runs.push(await measure('100k-address To: (compact, 0.9 MB header)', addresses, (r) => parser.parse(r)));
        }
        // Realistic addresses make the header ~3.8 MB: refused by the header limit, cheaply.
        const refused = await measure('100k-address To: (named, 3.8 MB header)', verbose, (r) => parser.parse(r));
        const inThread = reference
          ? [
              await measure('2 MB format=flowed, mailparser on the main thread', flowed, (r) => simpleParser(r)),
              await measure('100k-address To: (compact), mailparser on the main thread', addresses, (r) => simpleParser(r)),
            ]
          : [];
        return { cold, runs, refused, inThread };
      } finally {
        await parser.close();
      }
    },
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
