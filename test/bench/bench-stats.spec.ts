import { formatNumber, formatRatioTable, markdownTable, median, meetsTarget, pairwiseRatios, percentile, ratePerSecond, summarise } from './bench-stats';

describe('bench statistics', () => {
  it('takes the median of odd and even samples, ignoring non-finite values', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([5, Number.NaN, 1, Number.POSITIVE_INFINITY, 3])).toBe(3);
    expect(median([])).toBeNaN();
  });

  it('interpolates percentiles like percentile_cont', () => {
    const xs = Array.from({ length: 101 }, (_, i) => i); // 0..100
    expect(percentile(xs, 0.99)).toBe(99);
    expect(percentile([10, 20], 0.5)).toBe(15);
    expect(percentile([1, 2, 3, 4], 0.99)).toBeCloseTo(3.97, 10);
    expect(percentile([7], 0.99)).toBe(7);
    expect(() => percentile([1], 1.5)).toThrow(RangeError);
  });

  it('computes rates and pairs rounds with their baselines', () => {
    expect(ratePerSecond(500, 2000)).toBe(250);
    expect(ratePerSecond(10, 0)).toBeNaN();
    expect(pairwiseRatios([10, 20, 30], [20, 40])).toEqual([0.5, 0.5]);
    expect(pairwiseRatios([1], [0])[0]).toBeNaN();
  });

  it('judges targets in both directions and refuses to judge a missing value', () => {
    expect(meetsTarget(0.4, { op: '>=', value: 0.4 })).toBe(true);
    expect(meetsTarget(0.39, { op: '>=', value: 0.4 })).toBe(false);
    expect(meetsTarget(1.06, { op: '<=', value: 1.05 })).toBe(false);
    expect(meetsTarget(Number.NaN, { op: '<=', value: 1.05 })).toBeNull();
  });

  it('formats numbers with sensible precision', () => {
    expect(formatNumber(12345.6)).toBe('12,346');
    expect(formatNumber(12.345)).toBe('12.3');
    expect(formatNumber(1.2345)).toBe('1.23');
    expect(formatNumber(0.012345)).toBe('0.012');
    expect(formatNumber(Number.NaN)).toBe('n/a');
  });

  it('renders the ratio table with the median, verdict and every round', () => {
    const row = summarise({
      id: 'R1', title: 'pipeline ÷ chain', target: { op: '>=', value: 0.4 }, rounds: [0.5, 0.3, 0.45],
      numerator: '90 letters/s', denominator: '200 jobs/s', note: 'a | b',
    });
    expect(row.value).toBe(0.45);
    expect(row.met).toBe(true);
    const table = formatRatioTable([row]).split('\n');
    expect(table[0]).toBe('| id | ratio | value | target | result | measured | baseline / bound | rounds | note |');
    expect(table[1]).toMatch(/^\| --- \|/);
    expect(table[2]).toBe('| R1 | pipeline ÷ chain | 0.450 | >= 0.4 | met | 90 letters/s | 200 jobs/s | 0.500, 0.300, 0.450 | a \\| b |');
    expect(markdownTable(['a'], [['x\ny']])).toBe('| a |\n| --- |\n| x y |');
  });
});
