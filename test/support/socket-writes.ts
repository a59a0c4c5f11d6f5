import type { Socket } from 'node:net';

/**
 * Counts a socket's hand-overs to the kernel from now on: each `_write` (one chunk) or `_writev`
 * (several) is one write attempt. `chunks` is how many `write()` calls they carried.
 */
export function countHandOvers(socket: Socket): { writes: number; chunks: number } {
  const n = { writes: 0, chunks: 0 };
  const s = socket as unknown as { _write: (...a: unknown[]) => void; _writev: (chunks: unknown[], cb: unknown) => void };
  const write = s._write.bind(socket);
  const writev = s._writev.bind(socket);
  s._write = (...a) => (n.writes++, n.chunks++, write(...a));
  s._writev = (chunks, cb) => (n.writes++, (n.chunks += chunks.length), writev(chunks, cb));
  return n;
}

/**
 * Calls `fn(0)` … `fn(n - 1)`, each from its own callback of one event-loop turn's check phase — as
 * a burst of job completions issues them — and resolves with what they returned.
 */
export async function callsInOneTurn<T>(n: number, fn: (i: number) => T): Promise<T[]> {
  const results: T[] = [];
  await new Promise<void>((resolve) => {
    for (let i = 0; i < n; i++) setImmediate(() => results.push(fn(i)));
    setImmediate(resolve);
  });
  return results;
}
