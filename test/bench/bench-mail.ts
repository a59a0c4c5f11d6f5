/** Pathological replies for R9 (pure; see bench-mail.spec.ts). */
import { randomBytes } from 'node:crypto';

const CRLF = '\r\n';

export function replyHeaders(extra: string[], contentType: string, messageId = `<r9-${randomBytes(8).toString('hex')}@bench.example>`): string {
  return [
    'From: A Reader <reader@bench.example>',
    'Subject: Re: One small step [mz:focus]',
    `Message-ID: ${messageId}`,
    'In-Reply-To: <mz.00000000-0000-4000-8000-000000000000@reply.bench.example>',
    'Date: Sat, 22 Nov 2025 08:00:00 +0000',
    'MIME-Version: 1.0',
    ...extra,
    `Content-Type: ${contentType}`,
    'Content-Transfer-Encoding: 8bit',
  ].join(CRLF);
}

/** ~`bytes` of format=flowed text (RFC 3676): one endless paragraph of soft-broken lines, some quoted. */
export function flowedMail(bytes = 2 * 1024 * 1024, messageId?: string, to = 'reply@reply.bench.example'): Buffer {
  const words = 'done today and a note about the small step that I took before breakfast while the kettle boiled'.split(' ');
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const quote = i % 50 < 10 ? '> ' : '';
    let line = quote;
    for (let w = i; line.length < 70; w++) line += words[w % words.length] + ' ';
    lines.push(line); // the trailing space is a soft line break: the paragraph goes on
    size += line.length + 2;
  }
  return Buffer.from(replyHeaders([`To: ${to}`], 'text/plain; charset=utf-8; format=flowed; delsp=yes', messageId) + CRLF + CRLF + lines.join(CRLF) + CRLF);
}

/**
 * A To: header with `count` addresses, folded eight to a line. `compact` keeps each address as
 * short as an address can be (`1a2b@x.y`) so the header stays under mailsplit's 1 MB header limit
 * and is really parsed; otherwise addresses look like a client's and the limit refuses the header.
 */
export function manyAddressMail(count = 100_000, compact = true, messageId?: string): Buffer {
  const addresses = Array.from({ length: count }, (_, i) => (compact ? `${i.toString(36)}@x.y` : `Reader ${i} <reader${i}@bench.example>`));
  const lines: string[] = [];
  for (let i = 0; i < addresses.length; i += 8) lines.push(addresses.slice(i, i + 8).join(','));
  const to = 'To: ' + lines.join(',' + CRLF + ' ');
  return Buffer.from(replyHeaders([to], 'text/plain; charset=utf-8', messageId) + CRLF + CRLF + 'done' + CRLF);
}
