#!/usr/bin/env node
// What tracing costs when it is off (docs/architecture.md §6), measured on the built code
// (dist/, `npm run build` first): `node scripts/trace-overhead.mjs`.
// 1. Which OpenTelemetry modules a process with no OTEL_EXPORTER_OTLP_ENDPOINT loads: the API
//    only (a few small files), never the SDK or the exporter.
// 2. The per-call price of the off path the letter passes through (the `tracingEnabled()` check
//    that guards the producer, consumer, LLM and SMTP spans, and `withSpan` where it is not
//    guarded), against calling the function directly.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const tracing = require(join(root, 'dist/libs/platform/src/tracing.js'));

const started = await tracing.startTracing({ service: 'bench', config: { OTEL_TRACES_SAMPLER_ARG: 1 } });
const otel = Object.keys(require.cache).filter((k) => k.includes('@opentelemetry/'));
const packages = [...new Set(otel.map((k) => /@opentelemetry\/[^/]+/.exec(k)[0]))];
console.log(`tracing started: ${started !== undefined}; OpenTelemetry packages loaded: ${packages.join(', ') || 'none'} (${otel.length} files)`);
if (started || packages.some((p) => p !== '@opentelemetry/api')) process.exitCode = 1;

const N = 5_000_000;
const work = async (x) => x;
// The best of 5 rounds: the machine is shared, so a slower round measures the neighbours.
async function time(label, fn) {
  for (let i = 0; i < 100_000; i++) await fn(i); // warm-up
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N / 5; i++) await fn(i);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / (N / 5));
  }
  console.log(`${label.padEnd(44)} ${best.toFixed(1)} ns/call`);
  return best;
}
const direct = await time('direct call (baseline)', (i) => work(i));
const guarded = await time('tracingEnabled() ? … : direct call', (i) => (tracing.tracingEnabled() ? Promise.reject(new Error('on')) : work(i)));
const wrapped = await time("withSpan('x', {}, () => call)", (i) => tracing.withSpan('x', {}, () => work(i)));
console.log(`added per guarded call: ${(guarded - direct).toFixed(1)} ns; per withSpan: ${(wrapped - direct).toFixed(1)} ns ` +
  '(a letter passes ~6 guarded points: two enqueues, two job dispatches, the LLM call, the SMTP send)');
