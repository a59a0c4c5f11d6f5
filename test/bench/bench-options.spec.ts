import { parseBenchArgs } from './bench-options';

describe('bench options', () => {
  it('defaults to N = 10k, 3 rounds, every phase', () => {
    const o = parseBenchArgs([]);
    expect(o).toMatchObject({ n: 10_000, roundN: 2000, latenessN: 2000, rounds: 3, latenessLeadMs: 120_000, claimLarge: 1_000_000, build: true, quick: false });
    expect(o.phases).toContain('e2e');
    expect(o.warmup).toBeLessThanOrEqual(o.n);
  });

  it('--quick is a small smoke run; explicit flags still win', () => {
    expect(parseBenchArgs(['--quick'])).toMatchObject({ n: 2000, roundN: 1000, warmup: 2000, rounds: 1, quick: true });
    expect(parseBenchArgs(['--n', '100000', '--round-n', '10000'])).toMatchObject({ n: 100_000, roundN: 10_000, latenessN: 10_000, warmup: 2000 });
    expect(parseBenchArgs(['--quick', '--rounds', '2', '--n=5000'])).toMatchObject({ n: 5000, rounds: 2 });
  });

  it('parses the rest and refuses nonsense with a clear message', () => {
    const o = parseBenchArgs(['--n', '100000', '--phases', 'claim,e2e', '--no-build', '--profile', '--lateness-lead', '60', '--log-level', 'warn']);
    expect(o).toMatchObject({ n: 100_000, phases: ['e2e', 'claim'], build: false, profile: true, latenessLeadMs: 60_000, logLevel: 'warn' });
    expect(() => parseBenchArgs(['--n', 'lots'])).toThrow(/--n expects an integer/);
    expect(() => parseBenchArgs(['--phases', 'e2e,nope'])).toThrow(/unknown phase\(s\) nope/);
    expect(() => parseBenchArgs(['--frobnicate'])).toThrow(/unknown option/);
    expect(() => parseBenchArgs(['--rounds'])).toThrow(/needs a value/);
  });

  it('--service-env sets variables for every service, repeatable, and refuses what is not NAME=value', () => {
    expect(parseBenchArgs([]).serviceEnv).toEqual({});
    expect(parseBenchArgs(['--service-env', 'DATABASE_POOL_MAX=4', '--service-env=LOG_LEVEL=warn', '--service-env', 'X_Y=a=b']).serviceEnv)
      .toEqual({ DATABASE_POOL_MAX: '4', LOG_LEVEL: 'warn', X_Y: 'a=b' });
    expect(() => parseBenchArgs(['--service-env', 'pool=4'])).toThrow(/upper-case NAME/);
    expect(() => parseBenchArgs(['--service-env', '=4'])).toThrow(/NAME=value/);
    expect(() => parseBenchArgs(['--service-env', 'NOVALUE'])).toThrow(/NAME=value/);
  });

  it('--node-arg passes node and V8 flags to every service, one flag each, repeatable', () => {
    expect(parseBenchArgs([]).nodeArgs).toEqual([]);
    expect(parseBenchArgs(['--node-arg=--no-memory-reducer', '--node-arg', '--max-semi-space-size=32']).nodeArgs).toEqual(['--no-memory-reducer', '--max-semi-space-size=32']);
    expect(() => parseBenchArgs(['--node-arg', 'no-dashes'])).toThrow(/--node-arg expects one flag/);
    expect(() => parseBenchArgs(['--node-arg', '--a --b'])).toThrow(/--node-arg expects one flag/);
    expect(() => parseBenchArgs(['--node-arg', '--require=x y'])).toThrow(/--node-arg expects one flag/);
  });

  it('R11: the outage and its letters; the target outage is an explicit choice', () => {
    expect(parseBenchArgs([])).toMatchObject({ outageMs: 120_000, degradedN: 600 });
    expect(parseBenchArgs(['--quick'])).toMatchObject({ outageMs: 45_000, degradedN: 600 });
    expect(parseBenchArgs(['--phases', 'degraded', '--outage', '600', '--degraded-n', '1200'])).toMatchObject({ phases: ['degraded'], outageMs: 600_000, degradedN: 1200 });
    expect(() => parseBenchArgs(['--outage', '2'])).toThrow(/--outage/);
  });

  it('--cluster: the service phases on a Redis Cluster behind PgBouncer, and only those', () => {
    expect(parseBenchArgs(['--cluster'])).toMatchObject({ cluster: true, phases: ['e2e', 'mailer', 'degraded'] });
    expect(parseBenchArgs(['--cluster', '--phases', 'e2e'])).toMatchObject({ cluster: true, phases: ['e2e'] });
    expect(() => parseBenchArgs(['--cluster', '--phases', 'e2e,claim'])).toThrow(/not claim/);
  });
});
