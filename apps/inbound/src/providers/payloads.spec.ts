import { parseFormBody } from './form-body';
import { mailgunEvents, postmarkEvents, postmarkInbound, sendgridEvents, sesNotification } from './payloads';
import { snsStringToSign, snsUrl, SNS_HOST, SnsMessage } from './sns';

const LETTER = '6f1c2b9a-3d4e-4f5a-8b6c-7d8e9f0a1b2c';

describe('provider payloads', () => {
  it('Mailgun: failed/permanent is a permanent bounce naming the letter from user-variables', () => {
    const r = mailgunEvents({
      signature: { timestamp: '1', token: 't', signature: 's' },
      'event-data': { event: 'failed', severity: 'permanent', id: 'ev1', recipient: 'Ada <ADA@example.com>', 'user-variables': { mz_letter: LETTER }, 'delivery-status': { code: 550 } },
    });
    expect(r).toMatchObject({ ok: true, value: [{ provider: 'mailgun', key: 'ev1', type: 'bounce', permanent: true, recipient: 'ada@example.com', letterId: LETTER }] });
    const temp = mailgunEvents({ signature: { timestamp: '1', token: 't', signature: 's' }, 'event-data': { event: 'failed', severity: 'temporary', id: 'ev2' } });
    expect(temp.ok && temp.value[0]).toMatchObject({ type: 'bounce', permanent: false, letterId: null });
    expect(mailgunEvents({ 'event-data': {} }).ok).toBe(false);
  });

  it('SendGrid: bounce/blocked/deferred/spamreport/delivered map to our types; a stamped id that is not a UUID is ignored', () => {
    const base = { email: 'a@example.com', timestamp: 1 };
    const r = sendgridEvents([
      { ...base, event: 'bounce', type: 'bounce', sg_event_id: '1', mz_letter: LETTER },
      { ...base, event: 'bounce', type: 'blocked', sg_event_id: '2' },
      { ...base, event: 'deferred', sg_event_id: '3' },
      { ...base, event: 'spamreport', sg_event_id: '4', mz_letter: 'not-a-uuid' },
      { ...base, event: 'delivered', sg_event_id: '5' },
      { ...base, event: 'open', sg_event_id: '6' },
    ]);
    expect(r.ok && r.value.map((e) => [e.type, e.permanent, e.letterId])).toEqual([
      ['bounce', true, LETTER], ['bounce', false, null], ['bounce', false, null], ['complaint', false, null], ['delivery', false, null], ['other', false, null],
    ]);
    expect(sendgridEvents([]).ok).toBe(false);
    expect(sendgridEvents({ event: 'bounce' }).ok).toBe(false);
  });

  it('Postmark: record types, metadata, and a clear refusal without RawEmail', () => {
    const hard = postmarkEvents({ RecordType: 'Bounce', ID: 42, Type: 'HardBounce', Email: 'a@example.com', Metadata: { letter: LETTER } });
    expect(hard).toMatchObject({ ok: true, value: [{ key: 'Bounce:42', type: 'bounce', permanent: true, letterId: LETTER }] });
    const capitalised = postmarkEvents({ RecordType: 'Bounce', ID: 45, Type: 'HardBounce', Email: 'a@example.com', Metadata: { Letter: LETTER } });
    expect(capitalised.ok && capitalised.value[0].letterId).toBe(LETTER);
    const soft = postmarkEvents({ RecordType: 'Bounce', ID: 43, Type: 'SoftBounce', Email: 'a@example.com' });
    expect(soft.ok && soft.value[0].permanent).toBe(false);
    const spam = postmarkEvents({ RecordType: 'SpamComplaint', ID: 44, Type: 'SpamComplaint', Email: 'a@example.com' });
    expect(spam.ok && spam.value[0].type).toBe('complaint');
    const change = postmarkEvents({ RecordType: 'SubscriptionChange', Recipient: 'a@example.com', ChangedAt: '2026-01-01T00:00:00Z', SuppressSending: true, SuppressionReason: 'ManualSuppression' });
    expect(change.ok && change.value[0].type).toBe('other');
    expect(postmarkEvents({ RecordType: 'Open', MessageID: 'm1', Recipient: 'a@example.com', ReceivedAt: '2026-01-01T00:00:00Z' })).toMatchObject({ ok: true, value: [{ type: 'other', key: 'Open:m1:a@example.com:2026-01-01T00:00:00Z' }] });
    expect(postmarkEvents({ RecordType: 'Open' }).ok).toBe(false);
    expect(postmarkEvents({ RecordType: 'Bounce', MessageID: 'm1' }).ok).toBe(false);
    expect(postmarkInbound({ RawEmail: 'Subject: x\r\n\r\nhi' })).toMatchObject({ ok: true });
    expect(postmarkInbound({ TextBody: 'hi' })).toMatchObject({ ok: false, error: expect.stringMatching(/Include raw email content/) });
  });

  it('SES: Received goes to the store; Bounce/Complaint/Delivery become one event per recipient with the letter from the original headers', () => {
    expect(sesNotification(JSON.stringify({ notificationType: 'Received', content: 'x' }), 'm')).toEqual({ ok: true, value: { kind: 'received' } });
    const mail = { headers: [{ name: 'X-MZ-Letter', value: LETTER }, { name: 'Message-ID', value: `<mz.${LETTER}@reply.example>` }] };
    const b = sesNotification(JSON.stringify({ notificationType: 'Bounce', mail, bounce: { bounceType: 'Permanent', bouncedRecipients: [{ emailAddress: 'a@example.com', status: '5.1.1' }, { emailAddress: 'b@example.com' }] } }), 'sns1');
    expect(b.ok && b.value.kind === 'events' && b.value.events.map((e) => [e.key, e.type, e.permanent, e.recipient, e.letterId])).toEqual([
      ['sns1:0', 'bounce', true, 'a@example.com', LETTER], ['sns1:1', 'bounce', true, 'b@example.com', LETTER],
    ]);
    const t = sesNotification(JSON.stringify({ eventType: 'Bounce', mail: {}, bounce: { bounceType: 'Transient', bouncedRecipients: [{ emailAddress: 'a@example.com' }] } }), 'sns2');
    expect(t.ok && t.value.kind === 'events' && t.value.events[0]).toMatchObject({ permanent: false, letterId: null });
    expect(sesNotification('{broken', 'x').ok).toBe(false);
  });

  it('SNS: the canonical strings of the documentation, and only https URLs on an SNS host', () => {
    const base = { MessageId: 'id', TopicArn: 'arn', Message: 'msg', Timestamp: 'ts', SignatureVersion: '1', Signature: 's', SigningCertURL: 'u' } as const;
    expect(snsStringToSign(SnsMessage.parse({ ...base, Type: 'Notification' }))).toBe('Message\nmsg\nMessageId\nid\nTimestamp\nts\nTopicArn\narn\nType\nNotification\n');
    expect(snsStringToSign(SnsMessage.parse({ ...base, Type: 'Notification', Subject: 'subj' }))).toBe('Message\nmsg\nMessageId\nid\nSubject\nsubj\nTimestamp\nts\nTopicArn\narn\nType\nNotification\n');
    expect(snsStringToSign(SnsMessage.parse({ ...base, Type: 'SubscriptionConfirmation', SubscribeURL: 'sub', Token: 'tok' })))
      .toBe('Message\nmsg\nMessageId\nid\nSubscribeURL\nsub\nTimestamp\nts\nToken\ntok\nTopicArn\narn\nType\nSubscriptionConfirmation\n');
    expect(snsUrl('https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem', SNS_HOST)).not.toBeNull();
    expect(snsUrl('https://sns.cn-north-1.amazonaws.com.cn/x.pem', SNS_HOST)).not.toBeNull();
    for (const bad of ['http://sns.eu-west-1.amazonaws.com/x.pem', 'https://sns.eu-west-1.amazonaws.com.evil.example/x.pem', 'https://evil.example/sns.eu-west-1.amazonaws.com/x.pem',
      'https://user@sns.eu-west-1.amazonaws.com/x.pem', 'https://s3.amazonaws.com/x.pem', 'not a url', undefined]) {
      expect(snsUrl(bad, SNS_HOST)).toBeNull();
    }
  });

  it('form bodies: multipart and urlencoded fields as bytes, 8-bit content untouched', () => {
    const eight = Buffer.from([0x53, 0x3a, 0x20, 0xe4, 0x0d, 0x0a]);
    const body = Buffer.concat([Buffer.from('--XyZ\r\nContent-Disposition: form-data; name="token"\r\n\r\nabc\r\n--XyZ\r\nContent-Disposition: form-data; name="body-mime"\r\nContent-Type: text/plain\r\n\r\n'), eight, Buffer.from('\r\n--XyZ--\r\n')]);
    const r = parseFormBody('multipart/form-data; boundary=XyZ', body);
    expect(r.ok && r.fields.get('token')?.toString()).toBe('abc');
    expect(r.ok && r.fields.get('body-mime')).toEqual(eight);
    const u = parseFormBody('application/x-www-form-urlencoded', Buffer.from('a=1&body-mime=Subject%3A+x%0D%0A%E4'));
    expect(u.ok && u.fields.get('body-mime')).toEqual(Buffer.from([...Buffer.from('Subject: x\r\n'), 0xe4]));
    expect(parseFormBody('application/json', Buffer.from('{}'))).toMatchObject({ ok: false, status: 415 });
    expect(parseFormBody('multipart/form-data', Buffer.from('x'))).toMatchObject({ ok: false, status: 400 });
    expect(parseFormBody('multipart/form-data; boundary=q', Buffer.from('no boundary here'))).toMatchObject({ ok: false, status: 400 });
  });
});
