/** One line of a line diff: kept (' '), removed ('-') or added ('+'), with its line numbers. */
export interface DiffLine { op: ' ' | '-' | '+'; text: string; oldLine: number | null; newLine: number | null }

/**
 * Line diff by longest common subsequence. Prompt templates are a few dozen lines, so the
 * O(n·m) table is small; inputs are capped to keep a hostile pair from costing much.
 */
export function lineDiff(before: string, after: string, maxLines = 2000): DiffLine[] {
  const a = splitLines(before).slice(0, maxLines);
  const b = splitLines(after).slice(0, maxLines);
  const n = a.length;
  const m = b.length;
  // lcs[i][j] = LCS length of a[i..] and b[j..]
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      out.push({ op: ' ', text: a[i], oldLine: i + 1, newLine: j + 1 });
      i++;
      j++;
    } else if (j < m && (i === n || lcs[i][j + 1] >= lcs[i + 1][j])) {
      out.push({ op: '+', text: b[j], oldLine: null, newLine: j + 1 });
      j++;
    } else {
      out.push({ op: '-', text: a[i], oldLine: i + 1, newLine: null });
      i++;
    }
  }
  // Within a change block, show removals before additions, as unified diffs do.
  return reorderBlocks(out);
}

function reorderBlocks(lines: DiffLine[]): DiffLine[] {
  const result: DiffLine[] = [];
  let block: DiffLine[] = [];
  const flush = () => {
    result.push(...block.filter((l) => l.op === '-'), ...block.filter((l) => l.op === '+'));
    block = [];
  };
  for (const l of lines) {
    if (l.op === ' ') {
      flush();
      result.push(l);
    } else block.push(l);
  }
  flush();
  return result;
}

function splitLines(s: string): string[] {
  if (s === '') return [];
  const lines = s.replace(/\r\n?/g, '\n').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Unified diff text (`@@ -a,b +c,d @@` hunks with `context` lines around each change). */
export function unifiedDiff(before: string, after: string, labels: { from: string; to: string }, context = 3): string {
  const lines = lineDiff(before, after);
  const changed = lines.map((l, idx) => (l.op === ' ' ? -1 : idx)).filter((idx) => idx >= 0);
  if (!changed.length) return '';
  const hunks: [number, number][] = [];
  for (const idx of changed) {
    const start = Math.max(0, idx - context);
    const end = Math.min(lines.length - 1, idx + context);
    const last = hunks[hunks.length - 1];
    if (last && start <= last[1] + 1) last[1] = Math.max(last[1], end);
    else hunks.push([start, end]);
  }
  const out = [`--- ${labels.from}`, `+++ ${labels.to}`];
  for (const [start, end] of hunks) {
    const slice = lines.slice(start, end + 1);
    const oldCount = slice.filter((l) => l.op !== '+').length;
    const newCount = slice.filter((l) => l.op !== '-').length;
    const oldStart = firstNumber(lines, start, 'oldLine', oldCount);
    const newStart = firstNumber(lines, start, 'newLine', newCount);
    out.push(`@@ -${oldStart},${oldCount} +${newStart},${newCount} @@`);
    for (const l of slice) out.push(`${l.op}${l.text}`);
  }
  return `${out.join('\n')}\n`;
}

/** The hunk's first line number on one side; for an empty side, the line before it (diff convention). */
function firstNumber(lines: DiffLine[], start: number, side: 'oldLine' | 'newLine', count: number): number {
  for (let k = start; k < lines.length; k++) {
    const v = lines[k][side];
    if (v !== null) return count === 0 ? v - 1 : v;
  }
  for (let k = start - 1; k >= 0; k--) {
    const v = lines[k][side];
    if (v !== null) return v;
  }
  return 0;
}
