/**
 * The console shows the same line diff the API computes for saved versions (`@mz/line-diff`,
 * bundled into the console), folded for display.
 */
import type { DiffLine } from '@mz/line-diff';

export { lineDiff, type DiffLine } from '@mz/line-diff';

export type DiffChunk = { kind: 'lines'; lines: DiffLine[] } | { kind: 'skipped'; count: number };

/** Folds long runs of unchanged lines, keeping `context` lines around each change. */
export function foldUnchanged(lines: DiffLine[], context = 3): DiffChunk[] {
  const keep = lines.map((l) => l.op !== ' ');
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
    if (l.op === '+') added++;
    else if (l.op === '-') removed++;
  }
  return { added, removed };
}
