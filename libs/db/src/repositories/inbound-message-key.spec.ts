import { createHash } from 'node:crypto';
import { headerMessageId, inboundMessageKey } from './inbound-message-key';

const mail = (headers: string, body = 'hello\r\n') => Buffer.from(`${headers.replace(/\n/g, '\r\n')}\r\n\r\n${body}`, 'latin1');

describe('inboundMessageKey', () => {
  it('uses the Message-ID header as <id>', () => {
    expect(inboundMessageKey(mail('From: a@example.com\nMessage-ID: <abc.123@example.com>\nSubject: x'))).toBe('<abc.123@example.com>');
  });

  it('reads the header case-insensitively, folded, with comments, or without brackets', () => {
    expect(headerMessageId(mail('message-id:\n   <folded@example.com>'))).toBe('<folded@example.com>');
    expect(headerMessageId(mail('Message-Id: (a comment) <c@example.com> (trailing)'))).toBe('<c@example.com>');
    expect(headerMessageId(mail('Message-ID: bare-id@example.com'))).toBe('<bare-id@example.com>');
  });

  it('takes the message’s own header, never one from the body or an attached message', () => {
    const raw = mail('From: a@example.com\nSubject: fwd', 'Message-ID: <inner@example.com>\r\n');
    expect(headerMessageId(raw)).toBeNull();
  });

  it('falls back to sha256 of the raw bytes when the id is absent or unreadable', () => {
    for (const headers of ['From: a@example.com', 'Message-ID: <>', 'Message-ID: two words', `Message-ID: <${'x'.repeat(1200)}@e>`, 'Message-ID: <ünï@example.com>']) {
      const raw = mail(headers);
      expect(inboundMessageKey(raw)).toBe(`sha256:${createHash('sha256').update(raw).digest('hex')}`);
    }
  });

  it('gives the same key for the same bytes and different keys for different bytes without an id', () => {
    expect(inboundMessageKey(mail('Subject: a'))).toBe(inboundMessageKey(mail('Subject: a')));
    expect(inboundMessageKey(mail('Subject: a'))).not.toBe(inboundMessageKey(mail('Subject: b')));
  });

  it('handles bare LF line endings and a message that is all header', () => {
    expect(headerMessageId(Buffer.from('Subject: x\nMessage-ID: <lf@example.com>\n\nbody'))).toBe('<lf@example.com>');
    expect(headerMessageId(Buffer.from('Message-ID: <only@example.com>\r\n'))).toBe('<only@example.com>');
  });
});
