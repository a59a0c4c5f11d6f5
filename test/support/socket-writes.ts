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
