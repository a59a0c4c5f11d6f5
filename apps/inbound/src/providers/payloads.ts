import { z } from 'zod';
import { address, detailText, eventDate, type ProviderEventInput, stampedId } from './provider-event';

/**
 * The providers' documented webhook shapes, read with zod: only the fields we use are required,
 * everything else a provider adds is allowed and ignored. Each parser turns one verified body into
 * our events (or says why it cannot: a 400).
 */
export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };
const fail = (error: string): { ok: false; error: string } => ({ ok: false, error });

const LETTER_ARG = 'mz_letter';
const LOGIN_ARG = 'mz_login_token';

// ---------------------------------------------------------------- Mailgun
const MailgunSignatureShape = z.strictObject({ timestamp: z.string().max(20), token: z.string().max(256), signature: z.string().max(128) });
const MailgunEventBody = z.looseObject({
  signature: MailgunSignatureShape,
  'event-data': z.looseObject({
    event: z.string().min(1).max(64),
    id: z.string().min(1).max(256),
    timestamp: z.number().optional(),
    recipient: z.string().max(1000).optional(),
    severity: z.string().max(32).optional(),
    reason: z.string().max(200).optional(),
    'delivery-status': z.looseObject({ code: z.union([z.number(), z.string()]).optional(), description: z.string().optional(), message: z.string().optional() }).optional(),
    'user-variables': z.record(z.string(), z.unknown()).optional(),
    message: z.looseObject({ headers: z.looseObject({ 'message-id': z.string().optional() }).optional() }).optional(),
  }),
});
export type MailgunEventBody = z.infer<typeof MailgunEventBody>;

/** The signature object of a Mailgun event body, read before anything else (it is what is verified). */
export function mailgunSignature(json: unknown): Parsed<z.infer<typeof MailgunSignatureShape>> {
  const r = z.looseObject({ signature: MailgunSignatureShape }).safeParse(json);
  return r.success ? { ok: true, value: r.data.signature } : fail('expected a Mailgun webhook body with a "signature" object (timestamp, token, signature)');
}

/** Mailgun's event webhook (JSON): `failed` (severity permanent|temporary), `complained`, `delivered`; others recorded. */
export function mailgunEvents(json: unknown): Parsed<ProviderEventInput[]> {
  const r = MailgunEventBody.safeParse(json);
  if (!r.success) return fail('expected a Mailgun event: {"signature": {...}, "event-data": {"event", "id", ...}}');
  const e = r.data['event-data'];
  const vars = e['user-variables'] ?? {};
  const type = e.event === 'failed' ? 'bounce' : e.event === 'complained' ? 'complaint' : e.event === 'delivered' ? 'delivery' : 'other';
  const status = e['delivery-status'];
  return {
    ok: true,
    value: [{
      provider: 'mailgun', key: e.id, type, permanent: type === 'bounce' && e.severity === 'permanent',
      recipient: address(e.recipient), letterId: stampedId(vars[LETTER_ARG]), loginTokenId: stampedId(vars[LOGIN_ARG]),
      messageId: detailText(e.message?.headers?.['message-id'], 998), occurredAt: eventDate(e.timestamp),
      detail: { event: e.event, severity: detailText(e.severity), reason: detailText(e.reason), code: detailText(status?.code), description: detailText(status?.description ?? status?.message) },
    }],
  };
}

// ---------------------------------------------------------------- SendGrid
const SendgridEvent = z.looseObject({
  event: z.string().min(1).max(64),
  email: z.string().max(1000),
  sg_event_id: z.string().min(1).max(256),
  timestamp: z.number().optional(),
  type: z.string().max(64).optional(),
  status: z.union([z.string(), z.number()]).optional(),
  reason: z.string().optional(),
  bounce_classification: z.string().optional(),
  'smtp-id': z.string().optional(),
  [LETTER_ARG]: z.unknown().optional(),
  [LOGIN_ARG]: z.unknown().optional(),
});

/**
 * SendGrid's event webhook: a JSON array. `bounce` (type `bounce` permanent, `blocked` transient),
 * `deferred` (transient), `spamreport` (complaint), `delivered`; others recorded. Unique args are
 * top-level fields of each event.
 */
export function sendgridEvents(json: unknown): Parsed<ProviderEventInput[]> {
  const r = z.array(SendgridEvent).min(1).max(5000).safeParse(json);
  if (!r.success) return fail('expected a JSON array of SendGrid events, each with "event", "email" and "sg_event_id"');
  return {
    ok: true,
    value: r.data.map((e) => {
      const type = e.event === 'bounce' || e.event === 'deferred' ? 'bounce' : e.event === 'spamreport' ? 'complaint' : e.event === 'delivered' ? 'delivery' : 'other';
      return {
        provider: 'sendgrid', key: e.sg_event_id, type, permanent: e.event === 'bounce' && (e.type ?? 'bounce') === 'bounce',
        recipient: address(e.email), letterId: stampedId(e[LETTER_ARG]), loginTokenId: stampedId(e[LOGIN_ARG]),
        messageId: detailText(e['smtp-id'], 998), occurredAt: eventDate(e.timestamp),
        detail: { event: e.event, type: detailText(e.type), status: detailText(e.status), reason: detailText(e.reason), classification: detailText(e.bounce_classification) },
      };
    }),
  };
}

// ---------------------------------------------------------------- Postmark
const PostmarkMetadata = z.record(z.string(), z.unknown()).optional();
const PostmarkBounce = z.looseObject({
  RecordType: z.enum(['Bounce', 'SpamComplaint']),
  ID: z.union([z.number(), z.string()]),
  Type: z.string().max(64),
  Email: z.string().max(1000),
  MessageID: z.string().max(256).optional(),
  BouncedAt: z.string().optional(),
  Description: z.string().optional(),
  Details: z.string().optional(),
  Inactive: z.boolean().optional(),
  Metadata: PostmarkMetadata,
});
const PostmarkDelivery = z.looseObject({
  RecordType: z.literal('Delivery'),
  MessageID: z.string().min(1).max(256),
  Recipient: z.string().max(1000),
  DeliveredAt: z.string().optional(),
  Details: z.string().optional(),
  Metadata: PostmarkMetadata,
});
const PostmarkSubscriptionChange = z.looseObject({
  RecordType: z.literal('SubscriptionChange'),
  MessageID: z.string().max(256).optional(),
  Recipient: z.string().max(1000),
  ChangedAt: z.string().min(1),
  SuppressSending: z.boolean(),
  SuppressionReason: z.string().max(64).nullable().optional(),
  Origin: z.string().max(64).optional(),
  Metadata: PostmarkMetadata,
});
const PostmarkEvent = z.discriminatedUnion('RecordType', [PostmarkBounce, PostmarkDelivery, PostmarkSubscriptionChange]);
const POSTMARK_HANDLED = new Set(['Bounce', 'SpamComplaint', 'Delivery', 'SubscriptionChange']);
/** Postmark's permanent bounce types; the rest (Transient, SoftBounce, DnsError, AutoResponder…) are counted only. */
const POSTMARK_PERMANENT = new Set(['HardBounce', 'BadEmailAddress', 'ManuallyDeactivated']);

/**
 * One Postmark webhook record: Bounce, SpamComplaint, Delivery, SubscriptionChange (a suppression
 * Postmark made for a hard bounce or a complaint counts as that; a reactivation or a manual
 * change is recorded). Metadata `letter`/`login-token` is what the mailer stamped.
 */
export function postmarkEvents(json: unknown): Parsed<ProviderEventInput[]> {
  const r = PostmarkEvent.safeParse(json);
  if (!r.success) {
    // Open, Click… (ticked on the webhook by choice): recorded, no effect — a 400 would only make Postmark retry them.
    const other = z.looseObject({ RecordType: z.string().min(1).max(64).refine((t) => !POSTMARK_HANDLED.has(t)), MessageID: z.string().min(1).max(256) }).safeParse(json);
    if (!other.success) return fail('expected a Postmark webhook record with RecordType Bounce, SpamComplaint, Delivery or SubscriptionChange');
    const o = other.data;
    const at = typeof o.ReceivedAt === 'string' ? o.ReceivedAt : '';
    return {
      ok: true,
      value: [{
        provider: 'postmark', key: `${o.RecordType}:${o.MessageID}:${address(o.Recipient) ?? ''}:${at}`.slice(0, 500), type: 'other', permanent: false,
        recipient: address(o.Recipient), letterId: null, loginTokenId: null, messageId: null, occurredAt: eventDate(at), detail: { event: o.RecordType },
      }],
    };
  }
  const e = r.data;
  // Keys read case-insensitively: nodemailer writes header names in its own case
  // (X-Pm-Metadata-Letter), and Postmark takes the key from the header name.
  const meta = Object.fromEntries(Object.entries(e.Metadata ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const ids = { letterId: stampedId(meta.letter), loginTokenId: stampedId(meta['login-token']) };
  switch (e.RecordType) {
    case 'Bounce':
    case 'SpamComplaint': {
      const complaint = e.RecordType === 'SpamComplaint' || e.Type === 'SpamComplaint';
      return {
        ok: true,
        value: [{
          provider: 'postmark', key: `${e.RecordType}:${e.ID}`, type: complaint ? 'complaint' : 'bounce', permanent: !complaint && POSTMARK_PERMANENT.has(e.Type),
          recipient: address(e.Email), ...ids, messageId: null, occurredAt: eventDate(e.BouncedAt),
          detail: { event: e.RecordType, type: detailText(e.Type), description: detailText(e.Description), details: detailText(e.Details), postmarkMessageId: detailText(e.MessageID) },
        }],
      };
    }
    case 'Delivery':
      return {
        ok: true,
        value: [{
          provider: 'postmark', key: `Delivery:${e.MessageID}:${address(e.Recipient) ?? ''}`, type: 'delivery', permanent: false,
          recipient: address(e.Recipient), ...ids, messageId: null, occurredAt: eventDate(e.DeliveredAt),
          detail: { event: 'Delivery', details: detailText(e.Details), postmarkMessageId: detailText(e.MessageID) },
        }],
      };
    case 'SubscriptionChange': {
      const reason = e.SuppressionReason ?? null;
      const type = !e.SuppressSending ? 'other' : reason === 'HardBounce' ? 'bounce' : reason === 'SpamComplaint' ? 'complaint' : 'other';
      return {
        ok: true,
        value: [{
          provider: 'postmark', key: `SubscriptionChange:${e.MessageID ?? ''}:${address(e.Recipient) ?? ''}:${e.ChangedAt}`, type, permanent: type === 'bounce',
          recipient: address(e.Recipient), ...ids, messageId: null, occurredAt: eventDate(e.ChangedAt),
          detail: { event: 'SubscriptionChange', suppressSending: e.SuppressSending, suppressionReason: detailText(reason), origin: detailText(e.Origin) },
        }],
      };
    }
  }
}

/** Postmark's inbound webhook: the raw message only when the stream includes it ("Include raw email content"). */
export function postmarkInbound(json: unknown): Parsed<Buffer> {
  const r = z.looseObject({ RawEmail: z.string().optional(), MessageID: z.string().optional() }).safeParse(json);
  if (!r.success || Array.isArray(json)) return fail('expected a Postmark inbound message (JSON object)');
  if (!r.data.RawEmail) {
    return fail('the Postmark inbound payload has no RawEmail: enable "Include raw email content in JSON payload" on the inbound stream\'s settings');
  }
  return { ok: true, value: Buffer.from(r.data.RawEmail, 'utf8') };
}

// ---------------------------------------------------------------- Amazon SES (inside SNS)
const SesMail = z.looseObject({
  messageId: z.string().max(256).optional(),
  headers: z.array(z.looseObject({ name: z.string(), value: z.string() })).max(500).optional(),
  commonHeaders: z.looseObject({ messageId: z.string().optional() }).optional(),
});
const SesRecipient = z.looseObject({ emailAddress: z.string().max(1000), status: z.string().max(32).optional(), action: z.string().max(32).optional(), diagnosticCode: z.string().optional() });
const SesNotification = z.looseObject({
  notificationType: z.string().max(64).optional(),
  eventType: z.string().max(64).optional(),
  mail: SesMail.optional(),
  bounce: z.looseObject({ bounceType: z.string().max(32), bounceSubType: z.string().max(64).optional(), bouncedRecipients: z.array(SesRecipient).max(1000), timestamp: z.string().optional() }).optional(),
  complaint: z.looseObject({ complainedRecipients: z.array(SesRecipient).max(1000), timestamp: z.string().optional(), complaintFeedbackType: z.string().max(64).optional() }).optional(),
  delivery: z.looseObject({ recipients: z.array(z.string().max(1000)).max(1000), timestamp: z.string().optional(), smtpResponse: z.string().optional() }).optional(),
});

export type SesParsed = { kind: 'received' } | { kind: 'events'; events: ProviderEventInput[] };

/**
 * An SES notification (SNS `Message`): `Received` goes to the inbound store like any reply;
 * `Bounce`, `Complaint`, `Delivery` (notifications, or event publishing's `eventType`) become one
 * event per recipient, keyed by the SNS MessageId. The letter comes from the original headers SES
 * includes: `X-MZ-Letter`, else our Message-ID (resolved by the worker).
 */
export function sesNotification(message: string, snsMessageId: string): Parsed<SesParsed> {
  let json: unknown;
  try {
    json = JSON.parse(message);
  } catch {
    return fail('the SNS Message is not JSON');
  }
  const r = SesNotification.safeParse(json);
  if (!r.success) return fail('expected an SES notification');
  const n = r.data;
  const kind = n.notificationType ?? n.eventType;
  if (kind === 'Received') return { ok: true, value: { kind: 'received' } };
  const header = (name: string) => n.mail?.headers?.find((h) => h.name.toLowerCase() === name.toLowerCase())?.value;
  const ids = {
    letterId: stampedId(header('X-MZ-Letter')), loginTokenId: stampedId(header('X-MZ-Login-Token')),
    messageId: detailText(header('Message-ID') ?? n.mail?.commonHeaders?.messageId, 998),
  };
  const base = { provider: 'ses' as const, ...ids, detail: { event: kind ?? null, sesMessageId: detailText(n.mail?.messageId) } };
  if (kind === 'Bounce' && n.bounce) {
    const b = n.bounce;
    return {
      ok: true,
      value: {
        kind: 'events',
        events: b.bouncedRecipients.map((rcpt, i) => ({
          ...base, key: `${snsMessageId}:${i}`, type: 'bounce' as const, permanent: b.bounceType === 'Permanent', recipient: address(rcpt.emailAddress), occurredAt: eventDate(b.timestamp),
          detail: { ...base.detail, bounceType: detailText(b.bounceType), bounceSubType: detailText(b.bounceSubType), status: detailText(rcpt.status), diagnostic: detailText(rcpt.diagnosticCode) },
        })),
      },
    };
  }
  if (kind === 'Complaint' && n.complaint) {
    const c = n.complaint;
    return {
      ok: true,
      value: {
        kind: 'events',
        events: c.complainedRecipients.map((rcpt, i) => ({
          ...base, key: `${snsMessageId}:${i}`, type: 'complaint' as const, permanent: false, recipient: address(rcpt.emailAddress), occurredAt: eventDate(c.timestamp),
          detail: { ...base.detail, feedbackType: detailText(c.complaintFeedbackType) },
        })),
      },
    };
  }
  if (kind === 'Delivery' && n.delivery) {
    const d = n.delivery;
    return {
      ok: true,
      value: {
        kind: 'events',
        events: d.recipients.map((rcpt, i) => ({
          ...base, key: `${snsMessageId}:${i}`, type: 'delivery' as const, permanent: false, recipient: address(rcpt), occurredAt: eventDate(d.timestamp),
          detail: { ...base.detail, smtpResponse: detailText(d.smtpResponse) },
        })),
      },
    };
  }
  if (!kind) return fail('expected an SES notification with notificationType or eventType');
  // Send, Reject, Open, Click, DeliveryDelay…: recorded, no effect.
  return { ok: true, value: { kind: 'events', events: [{ ...base, key: `${snsMessageId}:0`, type: 'other', permanent: false, recipient: null, occurredAt: null }] } };
}
