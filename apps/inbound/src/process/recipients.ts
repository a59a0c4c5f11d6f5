import { type SignedAddress, verifySignedAddress } from '@mz/domain';
import { letterIdFromMessageIds, type ParsedMessage } from '../analysis';

const EMAIL = /[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+/g;
/** Where DSNs and ARF reports carry the headers of the message they are about. */
export const EMBEDDED_HEADER_PARTS = new Set(['text/rfc822-headers', 'message/rfc822', 'message/global-headers']);
/** Bounded: a message naming thousands of addresses must not cost thousands of HMACs. */
const MAX_RECIPIENTS = 50;

export interface Recipients {
  /** Where they were read: the SMTP envelope (RCPT TO), or the headers a relay left. */
  from: 'envelope' | 'headers';
  addresses: string[];
  /** The addresses among them that are our valid signed addresses. */
  signed: SignedAddress[];
}

/**
 * Whom a message was sent to. On the SMTP path the envelope (RCPT TO) says so and headers are
 * not consulted: they are the sender's to write. On the webhook and IMAP paths there is no
 * envelope, so the headers are read — Delivered-To and X-Original-To (what the receiving system
 * recorded), then To and Cc. That is safe for our purposes because a signed address is a
 * capability: it is only valid if we minted it, and only the letter's recipient was ever shown
 * it. Reading it from a header the sender wrote proves no more than knowing it, which is all
 * that sending to it proves, too.
 */
export function messageRecipients(
  row: { source: string; envelopeTo: string[] | null },
  m: ParsedMessage,
  replyDomain: string,
  secret: string,
): Recipients {
  let from: Recipients['from'];
  let addresses: string[];
  if (row.source === 'smtp' && row.envelopeTo) {
    from = 'envelope';
    addresses = row.envelopeTo;
  } else {
    from = 'headers';
    const h = m.headers;
    addresses = [h['delivered-to'], h['x-original-to'], m.to.join(', '), h['cc']].flatMap((v) => (v ?? '').match(EMAIL) ?? []);
  }
  addresses = [...new Set(addresses.map((a) => a.toLowerCase()))].slice(0, MAX_RECIPIENTS);
  const signed: SignedAddress[] = [];
  for (const a of addresses) {
    const s = verifySignedAddress(a, replyDomain, secret);
    if (s && !signed.some((x) => x.kind === s.kind && x.id === s.id)) signed.push(s);
  }
  return { from, addresses, signed };
}

/** The one id of `kinds` among the signed recipients; null when none, or several disagree. */
export function onlySigned(r: Recipients, ...kinds: SignedAddress['kind'][]): SignedAddress | null {
  const found = r.signed.filter((s) => kinds.includes(s.kind));
  return found.length === 1 ? found[0] : null;
}

/**
 * The letters a report's attached original names: our X-MZ-Letter header, then our Message-ID
 * in the embedded header block (the caller takes the first that exists). Unsigned, so a caller
 * must still require the report to name that letter's recipient.
 */
export function embeddedLetterIds(m: ParsedMessage, replyDomain: string): string[] {
  const blocks = m.parts.filter((p) => EMBEDDED_HEADER_PARTS.has(p.contentType) && p.text).map((p) => p.text as string);
  const ids: string[] = [];
  for (const b of blocks) {
    const header = /^x-mz-letter:\s*([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\s*$/im.exec(b);
    if (header) ids.push(header[1].toLowerCase());
    const byMessageId = letterIdFromMessageIds([...b.matchAll(/^message-id:\s*(.+)$/gim)].map((x) => x[1]), replyDomain);
    if (byMessageId) ids.push(byMessageId);
  }
  return [...new Set(ids)].slice(0, 4);
}
