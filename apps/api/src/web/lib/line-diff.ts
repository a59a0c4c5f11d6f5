/**
 * Line diff for comparing prompt template versions: longest common subsequence over lines, which
 * is plenty for texts of a few hundred lines and gives the minimal set of added/removed lines.
 */
export type DiffOp = 'same' | 'add' | 'del';
export interface DiffLine {
  op: DiffOp;
  text: string;
  /** 1-based line numbers in the old/new text (absent on the side the line is not in). */
  oldNo?: number;
  newNo?: number;
}

const MAX_CELLS = 4_000_000;

export function lineDiff(oldText: string, newText: string): DiffLine[] {
  const a = splitLines(oldText);
  const b = splitLines(newText);
  // Trim the common head and tail first: most edits touch a few lines of a long prompt.
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const out: DiffLine[] = [];
  for (let i = 0; i < start; i++) out.push({ op: 'same', text: a[i], oldNo: i + 1, newNo: i + 1 });
  const midA = a.slice(start, endA);
  const midB = b.slice(start, endB);
  for (const line of diffMiddle(midA, midB)) {
    out.push({
      ...line,
      oldNo: line.oldNo === undefined ? undefined : line.oldNo + start,
      newNo: line.newNo === undefined ? undefined : line.newNo + start,
    });
  }
  for (let i = 0; i < a.length - endA; i++) out.push({ op: 'same', text: a[endA + i], oldNo: endA + i + 1, newNo: endB + i + 1 });
  return out;
}

function splitLines(text: string): string[] {
  if (text === '') return [];
  return text.replace(/\r\n?/g, '\n').split('\n');
}

function diffMiddle(a: string[], b: string[]): DiffLine[] {
  const n = a.length;
  const m = b.length;
  if (n * m > MAX_CELLS) {
    // Too large to align: show it as replaced wholesale rather than freeze the tab.
    return [...a.map((text, i) => ({ op: 'del' as const, text, oldNo: i + 1 })), ...b.map((text, j) => ({ op: 'add' as const, text, newNo: j + 1 }))];
  }
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
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      out.push({ op: 'same', text: a[i], oldNo: i + 1, newNo: j + 1 });
      i++;
      j++;
    } else if (lcs[i + 1][j] >= lcs[i][j + 1]) {
      out.push({ op: 'del', text: a[i], oldNo: i + 1 });
      i++;
    } else {
      out.push({ op: 'add', text: b[j], newNo: j + 1 });
      j++;
    }
  }
  for (; i < n; i++) out.push({ op: 'del', text: a[i], oldNo: i + 1 });
  for (; j < m; j++) out.push({ op: 'add', text: b[j], newNo: j + 1 });
  return out;
}

export type DiffChunk = { kind: 'lines'; lines: DiffLine[] } | { kind: 'skipped'; count: number };

/** Folds long runs of unchanged lines, keeping `context` lines around each change. */
export function foldUnchanged(lines: DiffLine[], context = 3): DiffChunk[] {
  const keep = lines.map((l) => l.op !== 'same');
  const visible = lines.map((_, idx) => {
    for (let k = Math.max(0, idx - context); k <= Math.min(lines.length - 1, idx + context); k++) if (keep[k]) return true;
    return false;
  });
  const chunks: DiffChunk[] = [];
  let run: DiffLine[] = [];
  let skipped = 0;
  lines.forEach((line, idx) => {
    if (visible[idx]) {
      if (skipped) {
        chunks.push({ kind: 'skipped', count: skipped });
        skipped = 0;
      }
      run.push(line);
    } else {
      if (run.length) {
        chunks.push({ kind: 'lines', lines: run });
        run = [];
      }
      skipped++;
    }
  });
  if (run.length) chunks.push({ kind: 'lines', lines: run });
  if (skipped) chunks.push({ kind: 'skipped', count: skipped });
  return chunks;
}

export function diffStats(lines: DiffLine[]): { added: number; removed: number } {
  let added = 0;
  let removed = 0;
  for (const l of lines) {
    if (l.op === 'add') added++;
    else if (l.op === 'del') removed++;
  }
  return { added, removed };
}
