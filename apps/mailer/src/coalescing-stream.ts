import { Transform, type TransformCallback } from 'node:stream';

/** The largest piece handed on at once: a letter (a few KB) leaves whole, a big message in 64 KiB pieces. */
export const COALESCE_PIECE_BYTES = 64 * 1024;

/**
 * Joins a message's many small chunks into few large ones before they reach the socket.
 *
 * nodemailer streams a message as its MIME tree produces it: the headers, each boundary, each
 * encoded part — about ten chunks for a letter. Its SMTP connection pipes each chunk straight to
 * the socket, one `write` (a syscall, and over TLS a record of its own) per chunk. Joined here, a
 * letter's body leaves in one write (docs/architecture.md §3.6). The bytes and
 * their order are unchanged; only the chunking is. Memory stays bounded: at most
 * COALESCE_PIECE_BYTES are held before they are handed on.
 */
export class CoalescingStream extends Transform {
  private parts: Buffer[] = [];
  private size = 0;

  constructor(private readonly pieceBytes = COALESCE_PIECE_BYTES) {
    super();
  }

  override _transform(chunk: Buffer | string, encoding: BufferEncoding, callback: TransformCallback): void {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk;
    this.parts.push(buf);
    this.size += buf.length;
    if (this.size >= this.pieceBytes) this.handOn();
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.size > 0) this.handOn();
    callback();
  }

  private handOn(): void {
    this.push(this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.size));
    this.parts = [];
    this.size = 0;
  }
}
