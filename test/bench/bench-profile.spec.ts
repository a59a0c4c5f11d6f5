import { aggregateStatementLog, type CpuProfile, diffCommandStats, frameOwner, gcTotals, infoField, parseCommandStats, summariseCpuProfile } from './bench-profile';

describe('profile digests', () => {
  it('attributes frames to packages, repo files and V8 pseudo-frames', () => {
    expect(frameOwner('file:///work/main/node_modules/@nestjs/core/router.js', 'f')).toBe('@nestjs/core');
    expect(frameOwner('file:///work/main/node_modules/bullmq/node_modules/ioredis/built/Redis.js', 'f')).toBe('ioredis');
    expect(frameOwner('file:///work/main/dist/apps/mailer/src/send-letter.service.js', 'send')).toBe('dist/apps/mailer/src/send-letter.service.js');
    expect(frameOwner('file:///work/main/node_modules/.cache/mz-bench-x/dist/apps/mailer/src/a.js', 'f')).toBe('dist/apps/mailer/src/a.js');
    expect(frameOwner('node:internal/streams/writable', 'write')).toBe('node internals');
    expect(frameOwner('', '(garbage collector)')).toBe('(garbage collector)');
  });

  it('sums self time from samples and leaves idle out of the shares', () => {
    const profile: CpuProfile = {
      nodes: [
        { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1 } },
        { id: 2, callFrame: { functionName: '(idle)', url: '', lineNumber: -1 } },
        { id: 3, callFrame: { functionName: 'parse', url: 'file:///r/node_modules/pg/lib/result.js', lineNumber: 9 } },
        { id: 4, callFrame: { functionName: 'send', url: 'file:///r/dist/apps/mailer/src/x.js', lineNumber: 0 } },
      ],
      startTime: 0,
      endTime: 10_000,
      // Each delta is the time since the previous sample: it belongs to the previous sample's frame.
      samples: [3, 3, 4, 2, 3],
      timeDeltas: [0, 1000, 3000, 1000, 5000],
    };
    const s = summariseCpuProfile(profile);
    expect(s.idleMs).toBe(5);
    expect(s.totalMs).toBe(5); // parse 1 + 3 (before the switch), send 1
    expect(s.functions[0]).toEqual({ name: 'parse pg:10', selfMs: 4, share: 0.8 });
    expect(s.owners.map((o) => o.name)).toEqual(['pg', 'dist/apps/mailer/src/x.js']);
  });

  it('aggregates a Postgres duration log by statement for one database, joining continuation lines', () => {
    const log = [
      '2026-11-22 00:24:01.100 UTC [11] postgres@mz_bench_x LOG:  duration: 0.200 ms  parse <unnamed>: UPDATE letter',
      '\t   SET status = $1 WHERE id = $2',
      '2026-11-22 00:24:01.101 UTC [11] postgres@mz_bench_x LOG:  duration: 0.100 ms  bind <unnamed>: UPDATE letter',
      '\t   SET status = $1 WHERE id = $2',
      '2026-11-22 00:24:01.102 UTC [11] postgres@mz_bench_x LOG:  duration: 1.500 ms  execute <unnamed>: UPDATE letter',
      '\t   SET status = $1 WHERE id = $2',
      '2026-11-22 00:24:01.103 UTC [12] postgres@mz_bench_x LOG:  duration: 0.050 ms  statement: COMMIT',
      '2026-11-22 00:24:01.104 UTC [13] postgres@other_db LOG:  duration: 9.000 ms  statement: COMMIT',
      '2026-11-22 00:24:01.105 UTC [12] postgres@mz_bench_x LOG:  duration: 0.150 ms  statement: COMMIT',
      '2026-11-22 00:24:01.106 UTC [12] postgres@mz_bench_x ERROR:  something else',
    ].join('\n');
    const rows = aggregateStatementLog(log, 'mz_bench_x', (pid) => (pid === 11 ? 'mz-mailer' : 'mz-composer'));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ app: 'mz-mailer', statement: 'UPDATE letter SET status = $1 WHERE id = $2', calls: 1, parseBindMs: expect.closeTo(0.3, 6) });
    expect(rows[0].totalMs).toBeCloseTo(1.8, 6);
    expect(rows[1]).toMatchObject({ app: 'mz-composer', statement: 'COMMIT', calls: 2 });
    expect(rows[1].meanMs).toBeCloseTo(0.1, 6);
  });

  it('totals the GC histogram of a prom-client scrape over every kind', () => {
    const scrape = [
      '# HELP nodejs_gc_duration_seconds Garbage collection duration by kind, one of major, minor, incremental or weakcb.',
      'nodejs_gc_duration_seconds_bucket{le="0.001",kind="minor",service="inbound"} 10',
      'nodejs_gc_duration_seconds_bucket{le="0.01",kind="minor",service="inbound"} 14',
      'nodejs_gc_duration_seconds_bucket{le="0.1",kind="minor",service="inbound"} 15',
      'nodejs_gc_duration_seconds_sum{kind="minor",service="inbound"} 0.05',
      'nodejs_gc_duration_seconds_count{kind="minor",service="inbound"} 15',
      'nodejs_gc_duration_seconds_bucket{le="0.01",kind="major",service="inbound"} 1',
      'nodejs_gc_duration_seconds_sum{kind="major",service="inbound"} 0.2',
      'nodejs_gc_duration_seconds_count{kind="major",service="inbound"} 3',
    ].join('\n');
    expect(gcTotals(scrape)).toEqual({ count: 18, sumMs: 250, over10ms: 3 });
  });

  it('diffs Redis INFO commandstats and reads INFO fields', () => {
    const before = parseCommandStats('# Commandstats\r\ncmdstat_evalsha:calls=10,usec=500,usec_per_call=50.00,rejected_calls=0,failed_calls=0\r\ncmdstat_get:calls=5,usec=5\r\n');
    const after = parseCommandStats('cmdstat_evalsha:calls=30,usec=2500,usec_per_call=83.33\r\ncmdstat_get:calls=5,usec=5\r\ncmdstat_xadd:calls=4,usec=40\r\n');
    expect(diffCommandStats(before, after)).toEqual([
      { command: 'evalsha', calls: 20, usec: 2000 },
      { command: 'xadd', calls: 4, usec: 40 },
    ]);
    expect(infoField('# Memory\r\nused_memory:1048576\r\nused_memory_human:1.00M\r\n', 'used_memory')).toBe(1048576);
    expect(infoField('used_cpu_sys:12.5\r\n', 'used_cpu_sys')).toBe(12.5);
    expect(infoField('', 'used_memory')).toBeNaN();
  });
});
