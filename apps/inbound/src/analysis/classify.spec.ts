import { classifyMessage } from './classify';
import type { ParsedMessage } from './parsed-message';

function msg(over: Partial<ParsedMessage> & { headers?: Record<string, string> } = {}): ParsedMessage {
  return {
    messageId: '<x@example.com>',
    inReplyTo: null,
    references: [],
    from: { address: 'sam@example.com', name: 'Sam' },
    to: ['reply@reply.mentor.localhost'],
    subject: 'Re: Seneca on the storm that never came [mz:resilience]',
    date: null,
    text: 'Done!',
    html: null,
    attachments: [],
    parts: [{ contentType: 'text/plain' }],
    ...over,
    headers: { 'content-type': 'text/plain', ...(over.headers ?? {}) },
  };
}

const daemon = { address: 'mailer-daemon@mx.example.com', name: 'Mail Delivery System' };

function dsn(status: string, extra = ''): ParsedMessage {
  return msg({
    from: daemon,
    subject: 'Undelivered Mail Returned to Sender',
    headers: { 'content-type': 'multipart/report; report-type=delivery-status; boundary="b"', 'auto-submitted': 'auto-replied' },
    parts: [
      { contentType: 'text/plain' },
      { contentType: 'message/delivery-status', text: `Reporting-MTA: dns; mx.example.com\n\n${status}${extra}` },
      { contentType: 'text/rfc822-headers', text: 'To: sam@example.com' },
    ],
  });
}

describe('classifyMessage', () => {
  it('reads a human reply as a reply', () => {
    expect(classifyMessage(msg())).toEqual({ kind: 'reply' });
    expect(classifyMessage(msg({ headers: { 'auto-submitted': 'no', precedence: 'list' } }))).toEqual({ kind: 'reply' });
    // A subject that merely mentions holidays is not an out-of-office.
    expect(classifyMessage(msg({ subject: 'Re: Out of office thoughts from Seneca' }))).toEqual({ kind: 'reply' });
  });

  describe('DSN bounces', () => {
    it('5.x.x with Action: failed is hard, with the failed recipient and status', () => {
      expect(classifyMessage(dsn('Final-Recipient: rfc822; Sam@Example.com\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 user unknown'))).toEqual({
        kind: 'bounce',
        hard: true,
        recipients: ['sam@example.com'],
        status: '5.1.1',
      });
    });

    it('4.x.x delayed is soft; a failure that gave up on a 4.x.x is soft too', () => {
      expect(classifyMessage(dsn('Final-Recipient: rfc822; sam@example.com\nAction: delayed\nStatus: 4.2.2'))).toEqual({
        kind: 'bounce',
        hard: false,
        recipients: ['sam@example.com'],
        status: '4.2.2',
      });
      expect(classifyMessage(dsn('Final-Recipient: rfc822; sam@example.com\nAction: failed\nStatus: 4.4.7'))).toMatchObject({ kind: 'bounce', hard: false });
    });

    it('takes the status from Diagnostic-Code when Status is missing, and unfolds continued fields', () => {
      expect(classifyMessage(dsn('Final-Recipient: rfc822;\n sam@example.com\nAction: failed\nDiagnostic-Code: smtp; 550\n 5.2.1 mailbox disabled'))).toEqual({
        kind: 'bounce',
        hard: true,
        recipients: ['sam@example.com'],
        status: '5.2.1',
      });
    });

    it('with several recipients reports the hard failures only', () => {
      const c = classifyMessage(
        dsn('Final-Recipient: rfc822; a@example.com\nAction: failed\nStatus: 5.1.1\n\nFinal-Recipient: rfc822; b@example.com\nAction: delayed\nStatus: 4.2.2'),
      );
      expect(c).toEqual({ kind: 'bounce', hard: true, recipients: ['a@example.com'], status: '5.1.1' });
    });

    it('a success notification (Action: delivered) is an automated message, not a bounce', () => {
      expect(classifyMessage(dsn('Final-Recipient: rfc822; sam@example.com\nAction: delivered\nStatus: 2.0.0'))).toMatchObject({ kind: 'auto_reply' });
    });

    it('a report without readable recipient fields falls back to X-Failed-Recipients, soft', () => {
      const m = dsn('garbled');
      m.headers['x-failed-recipients'] = 'sam@example.com';
      expect(classifyMessage(m)).toEqual({ kind: 'bounce', hard: false, recipients: ['sam@example.com'] });
    });
  });

  describe('bounces without a report', () => {
    it.each([
      ['mailer-daemon sender', { from: daemon, subject: 'failure notice' }],
      ['postmaster sender', { from: { address: 'postmaster@example.org', name: '' }, subject: 'Returned mail' }],
      ['bounce subject only', { from: { address: 'noreply@mx.example.org', name: 'System' }, subject: 'Undeliverable: Seneca on the storm' }],
      ['German bounce subject', { from: { address: 'system@mx.example.de', name: 'System' }, subject: 'Unzustellbar: Seneca' }],
    ])('%s → soft bounce (we cannot tell permanent from temporary)', (_label, over) => {
      expect(classifyMessage(msg({ ...over, text: 'Final-Recipient: rfc822; sam@example.com\n550 5.1.1 user unknown' }))).toEqual({
        kind: 'bounce',
        hard: false,
        recipients: ['sam@example.com'],
      });
    });

    it('uses X-Failed-Recipients (Exim) for the recipients', () => {
      expect(classifyMessage(msg({ from: daemon, text: 'This message was created automatically', headers: { 'x-failed-recipients': 'a@example.com, B@example.com' } }))).toEqual({
        kind: 'bounce',
        hard: false,
        recipients: ['a@example.com', 'b@example.com'],
      });
    });
  });

  describe('ARF complaints', () => {
    const arf = (report: string, embedded = 'From: Mentor Zero <mentor@mentor.localhost>\nTo: sam@example.com\nSubject: a letter') =>
      msg({
        from: { address: 'fbl@isp.example', name: '' },
        subject: 'complaint',
        headers: { 'content-type': 'multipart/report; report-type=feedback-report; boundary="f"' },
        parts: [{ contentType: 'text/plain' }, { contentType: 'message/feedback-report', text: report }, { contentType: 'message/rfc822', text: embedded }],
      });

    it('takes the recipient from Original-Rcpt-To', () => {
      expect(classifyMessage(arf('Feedback-Type: abuse\nVersion: 1\nOriginal-Rcpt-To: <Sam@Example.com>'))).toEqual({ kind: 'complaint', recipients: ['sam@example.com'] });
    });

    it('falls back to the embedded message To (Original-Rcpt-To is optional)', () => {
      expect(classifyMessage(arf('Feedback-Type: abuse\nVersion: 1', 'from: Mentor Zero <mentor@mentor.localhost>\nto: Jörg <joerg@example.com>'))).toEqual({
        kind: 'complaint',
        recipients: ['joerg@example.com'],
      });
    });

    it('is recognised by its feedback-report part even without the report-type parameter', () => {
      const m = arf('Feedback-Type: abuse\nOriginal-Rcpt-To: sam@example.com');
      m.headers['content-type'] = 'multipart/mixed; boundary="f"';
      expect(classifyMessage(m)).toEqual({ kind: 'complaint', recipients: ['sam@example.com'] });
    });

    it('a not-spam report is not a complaint', () => {
      expect(classifyMessage(arf('Feedback-Type: not-spam\nOriginal-Rcpt-To: sam@example.com'))).toMatchObject({ kind: 'auto_reply' });
    });
  });

  describe('auto-replies', () => {
    it.each([
      [{ 'auto-submitted': 'auto-replied' }],
      [{ 'auto-submitted': 'auto-generated' }],
      [{ 'auto-submitted': 'auto-replied (vacation)' }],
      [{ 'x-autoreply': 'yes' }],
      [{ 'x-autorespond': 'Seneca on the storm' }],
      [{ 'x-auto-response-suppress': 'All' }],
      [{ precedence: 'bulk' }],
      [{ precedence: 'junk' }],
      [{ precedence: 'auto_reply' }],
    ])('by header %j', (headers) => {
      expect(classifyMessage(msg({ headers }))).toMatchObject({ kind: 'auto_reply' });
    });

    it.each([
      'Out of Office: Seneca on the storm',
      'Automatic reply: Re: Seneca on the storm',
      'Autoreply: Seneca',
      'Auto-Reply: Seneca',
      'Abwesenheitsnotiz: Seneca',
      'Automatische Antwort: Seneca',
      'Réponse automatique : Seneca',
      'Absence du bureau : Seneca',
      'Respuesta automática: Seneca',
      'Fuera de la oficina: Seneca',
      'Risposta automatica: Seneca',
      'Fuori ufficio: Seneca',
      'Automatisch antwoord: Seneca',
      'Afwezig: Seneca',
      'Resposta automática: Seneca',
      'Ausente do escritório: Seneca',
      'Automatiskt svar: Seneca',
      'Frånvaromeddelande: Seneca',
      'Odpowiedź automatyczna: Seneca',
      '自動返信: Re: Seneca',
      '自動応答: Seneca',
      '不在: Seneca',
      '自动回复: Seneca',
    ])('by out-of-office subject %s', (subject) => {
      expect(classifyMessage(msg({ subject }))).toEqual({ kind: 'auto_reply', reason: 'out-of-office subject' });
    });

    it('a read receipt (MDN) is automated', () => {
      expect(
        classifyMessage(msg({ headers: { 'content-type': 'multipart/report; report-type=disposition-notification; boundary="m"' }, subject: 'Read: Seneca' })),
      ).toEqual({ kind: 'auto_reply', reason: 'read receipt' });
    });

    it('a DSN wins over its own Auto-Submitted header', () => {
      expect(classifyMessage(dsn('Final-Recipient: rfc822; sam@example.com\nAction: failed\nStatus: 5.1.1'))).toMatchObject({ kind: 'bounce', hard: true });
    });
  });
});
