import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { CoalescingStream } from './coalescing-stream';

/** Feeds `chunks` through a CoalescingStream; returns what came out, chunk by chunk. */
async function through(chunks: (Buffer | string)[], pieceBytes?: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  const s = Readable.from(chunks, { objectMode: false }).pipe(new CoalescingStream(pieceBytes));
  // 'data' sees each push as it was made (a reader's read() would join what is buffered).
  s.on('data', (c: Buffer) => out.push(c));
  await finished(s);
  return out;
}

describe('CoalescingStream', () => {
  it('hands a small message on whole, bytes and order unchanged', async () => {
    const chunks = ['Subject: a\r\n', Buffer.from('\r\n'), '--b\r\n', Buffer.from('é and ✓\r\n'), '--b--\r\n'];
    const out = await through(chunks);
    expect(out).toHaveLength(1);
    expect(Buffer.concat(out).toString()).toBe(chunks.map(String).join(''));
  });

  it('a large message leaves in bounded pieces, nothing lost', async () => {
    const chunks = Array.from({ length: 50 }, (_, i) => Buffer.alloc(1000, 97 + (i % 26)));
    const out = await through(chunks, 8192);
    // Each piece is handed on once it reaches the bound (the chunk that crossed it included).
    expect(out.length).toBe(Math.ceil(50 / 9));
    for (const piece of out.slice(0, -1)) expect(piece.length).toBe(9000);
    expect(Buffer.concat(out)).toEqual(Buffer.concat(chunks));
  });

  it('an empty message stays empty', async () => {
    expect(await through([])).toEqual([]);
  });
});
