import { createHash } from 'node:crypto';

/** How far into a message we look for the end of its header block. */
const HEADER_SCAN_BYTES = 512 * 1024;
/** RFC 5322 §2.1.1: a line is at most 998 characters; an id longer than that is not one. */
const MAX_ID_LENGTH = 995;

/**
 * The key a raw message is stored under (docs/architecture.md §4): its Message-ID header as `<id>`, or
 * `sha256:<hex of the raw bytes>` when it has none (or one we cannot read). Read straight from
 * the header block, without a full parse, so that every receiving path (SMTP, IMAP, webhook)
 * derives the same key from the same bytes before anything is stored.
 */
export function inboundMessageKey(raw: Buffer): string {
  return headerMessageId(raw) ?? `sha256:${createHash('sha256').update(raw).digest('hex')}`;
}

/** The first Message-ID header's `<id>`, or null. Exported for tests. */
export function headerMessageId(raw: Buffer): string | null {
  const head = raw.subarray(0, HEADER_SCAN_BYTES).toString('latin1');
  const end = head.search(/\r?\n\r?\n/);
  // Unfold continuation lines (RFC 5322 §2.2.3) so a folded header reads as one line.
  const block = (end >= 0 ? head.slice(0, end) : head).replace(/\r?\n[ \t]+/g, ' ');
  const line = /^message-id[ \t]*:(.*)$/im.exec(block);
  if (!line) return null;
  const value = line[1].replace(/\([^()]*\)/g, ' ').trim(); // drop RFC 5322 comments
  const bracketed = /<([^<>\s]+)>/.exec(value);
  const id = bracketed ? bracketed[1] : /^[^<>\s]+$/.test(value) ? value : null;
  if (!id || id.length > MAX_ID_LENGTH || !/^[\x21-\x7e]+$/.test(id)) return null;
  return `<${id}>`;
}
