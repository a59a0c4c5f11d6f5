import { parseImapUrl } from './imap-url';

describe('parseImapUrl', () => {
  it('reads host, port, credentials and mailbox', () => {
    expect(parseImapUrl('imap://replies:s%40cret%2Fpw@mail.example.com:1143/INBOX')).toEqual({
      host: 'mail.example.com', port: 1143, secure: false, user: 'replies', pass: 's@cret/pw', mailbox: 'INBOX', processedMailbox: null,
    });
  });

  it('defaults the port by scheme and the mailbox to INBOX, and reads ?processed=', () => {
    expect(parseImapUrl('imaps://u:p@imap.example.com')).toMatchObject({ port: 993, secure: true, mailbox: 'INBOX' });
    expect(parseImapUrl('imap://u:p@imap.example.com/')).toMatchObject({ port: 143, secure: false, mailbox: 'INBOX' });
    expect(parseImapUrl('imap://u:p@h/Replies%2FMZ?processed=Done')).toMatchObject({ mailbox: 'Replies/MZ', processedMailbox: 'Done' });
  });

  it('refuses what it cannot poll, without echoing the URL (it holds a password)', () => {
    for (const bad of ['no-scheme-here', 'http://u:p@h/INBOX', 'imap://h/INBOX']) {
      let message = '';
      try {
        parseImapUrl(bad);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(/INBOUND_IMAP_URL/);
      expect(message).not.toContain(bad);
    }
  });
});
