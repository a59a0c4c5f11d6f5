import { parseBenchArgs } from './bench-options';
import { type BenchResults, buildReport } from './bench-report';

const results = (): BenchResults => ({
  startedAt: '2026-11-22T00:00:00.000Z',
  finishedAt: '2026-11-22T00:09:30.000Z',
  machine: {
    cores: 2, cpuModel: 'Test CPU', memoryMb: 24_000, freeMemoryMbAtStart: 20_000, node: 'v20.0.0', kernel: '6.1',
    postgres: '15.20', redis: '7.0.15', loadAvgStart: [1, 2, 3], loadAvgEnd: [3, 2, 1],
  },
  options: parseBenchArgs([]),
  serviceEnv: { SCHEDULER_TICK_MS: '250', SMTP_RATE_PER_SEC: '100000' },
  defaults: { COMPOSER_CONCURRENCY: 8, MAILER_CONCURRENCY: 10, SMTP_POOL_SIZE: 5, SMTP_MAX_MESSAGES: 1000, SCHEDULER_BATCH_SIZE: 500, DATABASE_POOL_MAX: 10 },
  ratios: [
    { id: 'R8', title: 'redis after ÷ before', target: { op: '<=', value: 1.05 }, rounds: [1.01, 1.2, 1.02], numerator: '5 MB', denominator: '5 MB' },
    { id: 'R1', title: 'e2e ÷ chain', target: { op: '>=', value: 0.4 }, rounds: [0.2, 0.3, 0.25], numerator: '50 letters/s', denominator: '200 jobs/s' },
  ],
  phases: {},
  cpuPerLetter: { scheduler: 1, composer: 4, mailer: 5, postgres: 8, redis: 1, total: 19 },
  peakRssMb: { 'mailer (e2e)': 160.4, 'composer (e2e)': null },
  errors: [{ phase: 'inbound', error: 'parser missing\nstack…' }],
  notes: ['database kept'],
});

describe('bench report', () => {
  it('orders the ratios by id, judges medians, and lists CPU, memory, errors and notes', () => {
    const { markdown, json } = buildReport(results());
    expect(json.summary.map((r) => [r.id, r.value, r.met])).toEqual([
      ['R1', 0.25, false],
      ['R8', 1.02, true],
    ]);
    expect(markdown).toContain('Machine: 2 cores (Test CPU)');
    expect(markdown).toContain('took 9.5 min');
    expect(markdown).toContain('SMTP pool 5 × 1000 messages per connection');
    expect(markdown.indexOf('| R1 |')).toBeLessThan(markdown.indexOf('| R8 |'));
    expect(markdown).toContain('| R1 | e2e ÷ chain | 0.250 | >= 0.4 | MISSED |');
    expect(markdown).toContain('| postgres backends | 8.00 |');
    expect(markdown).toContain('| mailer (e2e) | 160 |');
    expect(markdown).toContain('| composer (e2e) | n/a |');
    expect(markdown).toContain('- inbound: parser missing');
    expect(markdown).not.toContain('stack…');
    expect(markdown).toContain('- database kept');
    expect(markdown).not.toContain('Node flags');
  });

  it('names the settings a run changed: --service-env variables (secrets masked) and --node-arg flags', () => {
    const r = results();
    r.options = parseBenchArgs(['--service-env', 'MAILER_CONCURRENCY=32', '--service-env', 'SESSION_SECRET=s3cret', '--node-arg=--no-memory-reducer']);
    const { markdown } = buildReport(r);
    expect(markdown).toContain('set with --service-env: MAILER_CONCURRENCY=32, SESSION_SECRET=….');
    expect(markdown).not.toContain('s3cret');
    expect(markdown).toContain('Node flags for every service (--node-arg): --no-memory-reducer.');
  });
});
