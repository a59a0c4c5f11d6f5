import { diffStats, foldUnchanged, lineDiff } from './line-diff';

describe('lineDiff', () => {
  it('keeps common lines and marks the minimal additions and removals with line numbers', () => {
    const d = lineDiff('a\nb\nc\nd', 'a\nc\nd\ne');
    expect(d.map((l) => `${l.op}:${l.text}`)).toEqual([' :a', '-:b', ' :c', ' :d', '+:e']);
    expect(d.find((l) => l.op === '-')).toMatchObject({ oldLine: 2, newLine: null });
    expect(d.find((l) => l.op === '+')).toMatchObject({ newLine: 4, oldLine: null });
    expect(d.filter((l) => l.op === ' ').map((l) => [l.oldLine, l.newLine])).toEqual([[1, 1], [3, 2], [4, 3]]);
    expect(diffStats(d)).toEqual({ added: 1, removed: 1 });
  });

  it('handles empty sides, identical texts and CRLF', () => {
    expect(lineDiff('', 'x\ny').map((l) => l.op)).toEqual(['+', '+']);
    expect(lineDiff('x\ny', '').map((l) => l.op)).toEqual(['-', '-']);
    expect(diffStats(lineDiff('same\r\ntext', 'same\ntext'))).toEqual({ added: 0, removed: 0 });
  });

  it('finds a one-line change in the middle of a long text', () => {
    const before = Array.from({ length: 500 }, (_, i) => `line ${i}`);
    const after = [...before];
    after[250] = 'changed';
    const d = lineDiff(before.join('\n'), after.join('\n'));
    expect(diffStats(d)).toEqual({ added: 1, removed: 1 });
    expect(d).toHaveLength(501);
  });
});

describe('foldUnchanged', () => {
  it('keeps context around changes and folds the rest', () => {
    const before = Array.from({ length: 20 }, (_, i) => `l${i}`).join('\n');
    const after = before.replace('l10', 'L10');
    const chunks = foldUnchanged(lineDiff(before, after), 2);
    expect(chunks.map((c) => (c.kind === 'skipped' ? `skip ${c.count}` : c.lines.map((l) => l.text).join(',')))).toEqual([
      'skip 8',
      'l8,l9,l10,L10,l11,l12',
      'skip 7',
    ]);
  });
});
