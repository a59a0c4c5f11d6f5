import { maxWebhookBodyBytes, parseWebhookPayload } from './webhook-payload';

const MIME = 'From: Sam <sam@example.com>\r\nTo: reply@reply.example\r\nSubject: Re: hi\r\nMessage-ID: <p1@example.com>\r\n\r\nDone ✅\r\n';
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

describe('parseWebhookPayload', () => {
  it('takes a message/rfc822 body byte for byte (8-bit bytes included)', () => {
    const raw = Buffer.concat([Buffer.from('Subject: x\r\n\r\n'), Buffer.from([0xe4, 0xf6, 0xfc])]);
    const r = parseWebhookPayload('message/rfc822; charset=binary', raw, 1000);
    expect(r).toEqual({ ok: true, raw, format: 'rfc822' });
  });

  it('takes an SES Received notification with the message as text', () => {
    const r = parseWebhookPayload('application/json', json({ notificationType: 'Received', mail: { messageId: 'x' }, receipt: {}, content: MIME }), 10_000);
    expect(r.ok && r.raw.toString('utf8')).toBe(MIME);
  });

  it('decodes base64 content when encoding says so or when the content is plainly base64 (SES Base64 action)', () => {
    const b64 = Buffer.from(MIME).toString('base64');
    for (const body of [{ notificationType: 'Received', encoding: 'base64', content: b64 }, { notificationType: 'Received', content: b64.replace(/(.{76})/g, '$1\r\n') }]) {
      const r = parseWebhookPayload('application/json; charset=utf-8', json(body), 10_000);
      expect(r.ok && r.raw.toString('utf8')).toBe(MIME);
    }
  });

  it('unwraps the SNS HTTP delivery around the SES notification', () => {
    const inner = JSON.stringify({ notificationType: 'Received', content: MIME });
    const r = parseWebhookPayload('application/json', json({ Type: 'Notification', MessageId: 'm', TopicArn: 'arn:aws:sns:x', Message: inner }), 10_000);
    expect(r.ok && r.raw.toString('utf8')).toBe(MIME);
  });

  it('answers 415 for other media types and 400 for bodies it cannot read', () => {
    expect(parseWebhookPayload('text/plain', Buffer.from(MIME), 10_000)).toMatchObject({ ok: false, status: 415 });
    expect(parseWebhookPayload(undefined, Buffer.from(MIME), 10_000)).toMatchObject({ ok: false, status: 415 });
    for (const body of [Buffer.from('{not json'), json({ content: MIME }), json({ notificationType: 'Bounce', content: MIME }), json({ notificationType: 'Received', content: '' }),
      json({ notificationType: 'Received', encoding: 'base64', content: 'not*base64' }), json({ Type: 'Notification', Message: '{broken' }), json([1, 2])]) {
      expect(parseWebhookPayload('application/json', body, 10_000)).toMatchObject({ ok: false, status: 400 });
    }
    expect(parseWebhookPayload('message/rfc822', Buffer.alloc(0), 10_000)).toMatchObject({ ok: false, status: 400 });
  });

  it('answers 413 when the message itself is over the cap, however it was wrapped', () => {
    const big = 'Subject: x\r\n\r\n' + 'a'.repeat(2000);
    expect(parseWebhookPayload('message/rfc822', Buffer.from(big), 1000)).toMatchObject({ ok: false, status: 413 });
    expect(parseWebhookPayload('application/json', json({ notificationType: 'Received', content: Buffer.from(big).toString('base64') }), 1000)).toMatchObject({ ok: false, status: 413 });
    expect(maxWebhookBodyBytes(1000)).toBeGreaterThan(Math.ceil((1000 * 4) / 3));
  });
});
