import { z } from 'zod';

export type WebhookPayload =
  | { ok: true; raw: Buffer; format: 'rfc822' | 'ses' }
  | { ok: false; status: 400 | 413 | 415; error: string };

/**
 * The SES "Received" notification (SES receipt rule → SNS action). Only these fields are read;
 * `mail`, `receipt` and anything else SES adds are allowed and ignored.
 */
const SesReceived = z.looseObject({
  notificationType: z.literal('Received'),
  content: z.string().min(1),
  encoding: z.enum(['base64', 'BASE64', 'Base64', 'utf8', 'UTF8', 'UTF-8', 'utf-8']).optional(),
});
/** The SNS HTTP delivery wrapping it: `Message` holds the SES notification as a JSON string. */
const SnsEnvelope = z.looseObject({ Type: z.literal('Notification'), Message: z.string().min(1) });

const BASE64 = /^[A-Za-z0-9+/\r\n]+={0,2}[\r\n]*$/;

function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0].trim().toLowerCase();
}

/** The largest request body worth reading: a base64 JSON envelope of a message at the cap. */
export function maxWebhookBodyBytes(maxMessageBytes: number): number {
  return Math.ceil((maxMessageBytes * 4) / 3) + 64 * 1024;
}

/**
 * What `POST /webhooks/reply` accepts (after its signature was checked over these bytes):
 * - `Content-Type: message/rfc822`: the body is the raw MIME message, byte for byte.
 * - `Content-Type: application/json`: an SES "Received" notification
 *   `{"notificationType":"Received","content":"<raw MIME>", ...}`, or the SNS HTTP delivery that
 *   wraps one (`{"Type":"Notification","Message":"<that JSON as a string>", ...}`). `content` is
 *   base64 when `"encoding":"base64"` is given, or when it is base64 through and through (SES's
 *   SNS action with Base64 encoding does not say so; raw MIME always has a ':' in its first
 *   header, which base64 cannot contain). Otherwise it is the message as UTF-8 text.
 * Anything else is 415; an unreadable body 400; a message over the size cap 413.
 */
export function parseWebhookPayload(contentType: string | undefined, body: Buffer, maxMessageBytes: number): WebhookPayload {
  const type = mediaType(contentType);
  if (type === 'message/rfc822') {
    if (!body.length) return { ok: false, status: 400, error: 'empty message' };
    if (body.length > maxMessageBytes) return { ok: false, status: 413, error: `message exceeds ${maxMessageBytes} bytes` };
    return { ok: true, raw: body, format: 'rfc822' };
  }
  if (type !== 'application/json') return { ok: false, status: 415, error: 'expected Content-Type message/rfc822 or application/json' };

  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return { ok: false, status: 400, error: 'body is not valid JSON' };
  }
  const sns = SnsEnvelope.safeParse(json);
  if (sns.success) {
    try {
      json = JSON.parse(sns.data.Message);
    } catch {
      return { ok: false, status: 400, error: 'SNS Message is not valid JSON' };
    }
  }
  const ses = SesReceived.safeParse(json);
  if (!ses.success) return { ok: false, status: 400, error: 'expected an SES notification with notificationType "Received" and a "content" string' };

  const { content, encoding } = ses.data;
  const base64 = encoding ? encoding.toLowerCase() === 'base64' : BASE64.test(content) && !content.includes(':');
  let raw: Buffer;
  if (base64) {
    const compact = content.replace(/[\r\n]/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 === 1) return { ok: false, status: 400, error: 'content is not valid base64' };
    raw = Buffer.from(compact, 'base64');
  } else {
    raw = Buffer.from(content, 'utf8');
  }
  if (!raw.length) return { ok: false, status: 400, error: 'empty message' };
  if (raw.length > maxMessageBytes) return { ok: false, status: 413, error: `message exceeds ${maxMessageBytes} bytes` };
  return { ok: true, raw, format: 'ses' };
}
