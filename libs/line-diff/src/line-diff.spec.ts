import { lineDiff, unifiedDiff } from '.';

describe('lineDiff', () => {
  it('keeps common lines and marks removals before additions', () => {
    const d = lineDiff('a\nb\nc\nd\n', 'a\nB\nc\nd\ne\n');
    expect(d.map((l) => `${l.op}${l.text}`)).toEqual([' a', '-b', '+B', ' c', ' d', '+e']);
    expect(d[1]).toEqual({ op: '-', text: 'b', oldLine: 2, newLine: null });
    expect(d[2]).toEqual({ op: '+', text: 'B', oldLine: null, newLine: 2 });
    expect(d[5]).toEqual({ op: '+', text: 'e', oldLine: null, newLine: 5 });
  });

  it('handles empty sides and identical texts', () => {
    expect(lineDiff('', 'x\ny').map((l) => l.op)).toEqual(['+', '+']);
    expect(lineDiff('x\ny', '').map((l) => l.op)).toEqual(['-', '-']);
    expect(lineDiff('same\ntext', 'same\ntext').every((l) => l.op === ' ')).toBe(true);
  });

  it('finds the longest common subsequence, not just a common prefix', () => {
    const d = lineDiff('1\n2\n3\n4\n5', '0\n2\n3\n4\n6');
    expect(d.filter((l) => l.op === ' ').map((l) => l.text)).toEqual(['2', '3', '4']);
  });
});

describe('unifiedDiff', () => {
  it('writes hunks with context and correct ranges', () => {
    const before = Array.from({ length: 12 }, (_, i) => `line ${i + 1}`).join('\n');
    const after = before.replace('line 2', 'line two').replace('line 11', 'line eleven');
    const text = unifiedDiff(before, after, { from: 'v1', to: 'v2' }, 2);
    expect(text).toBe([
      '--- v1', '+++ v2',
      '@@ -1,4 +1,4 @@', ' line 1', '-line 2', '+line two', ' line 3', ' line 4',
      '@@ -9,4 +9,4 @@', ' line 9', ' line 10', '-line 11', '+line eleven', ' line 12',
      '',
    ].join('\n'));
  });

  it('is empty when nothing changed', () => {
    expect(unifiedDiff('a\nb', 'a\nb', { from: 'x', to: 'y' })).toBe('');
  });
});
