import { signedAddress } from '@mz/domain';
import type { ParsedMessage } from '../analysis';
import { embeddedLetterIds, messageRecipients, onlySigned } from './recipients';

const DOMAIN = 'reply.example.org';
const SECRET = 'r'.repeat(40);
const LETTER = '3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
const OTHER = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';

const parsed = (over: Partial<ParsedMessage> = {}): ParsedMessage => ({
  messageId: null, inReplyTo: null, references: [], from: null, to: [], subject: '', date: null, headers: {}, text: '', html: null, attachments: [], parts: [], ...over,
});

describe('messageRecipients', () => {
  const reply = signedAddress('reply', LETTER, DOMAIN, SECRET);

  it('on SMTP reads only the envelope: a signed address the sender put in a header is not a recipient', () => {
    const m = parsed({ to: [reply], headers: { 'delivered-to': reply } });
    const r = messageRecipients({ source: 'smtp', envelopeTo: [`reply@${DOMAIN}`] }, m, DOMAIN, SECRET);
    expect(r).toEqual({ from: 'envelope', addresses: [`reply@${DOMAIN}`], signed: [] });
    expect(messageRecipients({ source: 'smtp', envelopeTo: [reply.toUpperCase()] }, m, DOMAIN, SECRET).signed).toEqual([{ kind: 'reply', id: LETTER }]);
  });

  it('on webhook/IMAP reads Delivered-To, X-Original-To, To and Cc, keeping only signatures that verify', () => {
    const forged = reply.replace(/\.[0-9a-f]{20}@/, '.00000000000000000000@');
    const m = parsed({ to: [forged], headers: { 'x-original-to': `Someone <${reply}>`, cc: signedAddress('unsubscribe', OTHER, DOMAIN, 'x'.repeat(40)) } });
    const r = messageRecipients({ source: 'webhook', envelopeTo: null }, m, DOMAIN, SECRET);
    expect(r.from).toBe('headers');
    expect(r.signed).toEqual([{ kind: 'reply', id: LETTER }]);
    expect(onlySigned(r, 'reply')).toEqual({ kind: 'reply', id: LETTER });
    expect(onlySigned(r, 'unsubscribe')).toBeNull();
  });

  it('onlySigned refuses two different ids of the same kind', () => {
    const r = messageRecipients({ source: 'smtp', envelopeTo: [reply, signedAddress('reply', OTHER, DOMAIN, SECRET)] }, parsed(), DOMAIN, SECRET);
    expect(r.signed).toHaveLength(2);
    expect(onlySigned(r, 'reply')).toBeNull();
  });
});

describe('embeddedLetterIds', () => {
  it('finds X-MZ-Letter and our Message-ID in an attached original, never a foreign domain', () => {
    const m = parsed({
      parts: [
        { contentType: 'text/plain', text: `X-MZ-Letter: ${OTHER}` },
        { contentType: 'text/rfc822-headers', text: `From: a@b\r\nX-MZ-Letter: ${LETTER}\r\nMessage-ID: <mz.${OTHER}@${DOMAIN}>\r\n` },
        { contentType: 'message/rfc822', text: `Message-ID: <mz.${OTHER}@evil.example>\r\n` },
      ],
    });
    expect(embeddedLetterIds(m, DOMAIN)).toEqual([LETTER, OTHER]);
    expect(embeddedLetterIds(parsed(), DOMAIN)).toEqual([]);
  });
});
