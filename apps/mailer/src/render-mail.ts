/**
 * MIME assembly for everything the mailer sends, as plain data for nodemailer. Pure: no I/O, no
 * clock, no randomness — the service gathers links, footer and quote, this decides the bytes' shape.
 */
import { escapeHtml, fillTemplate } from '@mz/contracts';

import type { MailProvider } from '@mz/contracts';
import { type PreparedHeader, providerHeaders } from './provider-headers';

/** What nodemailer needs for one message (a subset of its SendMailOptions). */
export interface OutgoingMail {
  from: string;
  to: string;
  replyTo?: string;
  /**
   * SMTP envelope: `from` is the message's signed bounce address (VERP), so a receiver's DSN or a
   * feedback-loop report comes back to the inbound service and names exactly this message.
   */
  envelope: { from: string; to: string };
  subject: string;
  /** Angle-bracketed, stable (derived from the letter or token id). */
  messageId: string;
  /** Prepared values are written as given (provider JSON headers), the rest encoded as needed. */
  headers: Record<string, string | PreparedHeader>;
  text: string;
  html: string;
}

export interface LetterMailInput {
  /** The relay provider (MAIL_PROVIDER): decides which of its headers carry the letter id. Default smtp. */
  provider?: MailProvider;
  from: string;
  to: string;
  /** The letter's signed addresses on REPLY_DOMAIN: `r+…` (Reply-To) and `b+l…` (envelope sender). */
  addresses: { reply: string; bounce: string };
  letter: { id: string; messageId: string; subject: string; bodyText: string; bodyHtml: string | null };
  topic: { code: string; name: string };
  footer: { textTemplate: string; htmlTemplate: string };
  quote: { text: string; author: string } | null;
  links: { login: string; unsubscribe: string; unsubscribeMailto: string };
}

export interface LoginMailInput {
  provider?: MailProvider;
  from: string;
  to: string;
  /** The login token the mail carries a link for (named to the provider; the link itself never is). */
  loginTokenId: string;
  /** The token's signed `b+t…` address: the envelope sender. */
  bounceAddress: string;
  messageId: string;
  link: string;
  expiresInMinutes: number;
  /**
   * What confirming this link also starts (the landing page's choice stored on its token): said
   * in the mail so its owner knows before opening it (docs/architecture.md §5).
   */
  starts?: { topicNames: string[]; sendTime: string; timezone: string } | null;
}

/**
 * Headers every automated mail carries. Auto-Submitted (RFC 3834) tells well-behaved responders not
 * to answer; X-Auto-Response-Suppress asks Exchange for no out-of-office or auto-replies, but leaves
 * NDRs on (`All` would also suppress the bounces our suppression list depends on).
 */
/**
 * Feedback-ID (Gmail's feedback loop, also read by others): `<campaign>:<type>:<sender>` — complaint
 * rates are reported per value, so letters are told apart by topic. Nothing about the recipient.
 */
export const FEEDBACK_SENDER_ID = 'mentorzero';
export const feedbackId = (campaign: string, type: 'letter' | 'transactional') => `${campaign}:${type}:${FEEDBACK_SENDER_ID}`;

const AUTOMATED_HEADERS = {
  'Auto-Submitted': 'auto-generated',
  'X-Auto-Response-Suppress': 'OOF, AutoReply',
};

export function renderLetterMail(input: LetterMailInput): OutgoingMail {
  const { letter, topic, footer, quote, links } = input;
  const values = { login_link: links.login, unsubscribe_link: links.unsubscribe, topic_name: topic.name };
  const footerText = fillTemplate(footer.textTemplate, values);
  const footerHtml = fillTemplate(footer.htmlTemplate, values, escapeHtml);

  const text = [letter.bodyText.trimEnd(), quote ? quoteText(quote) : null, footerText.trim()].filter(Boolean).join('\n\n') + '\n';
  const body = letter.bodyHtml?.trim() ? bodyFragment(letter.bodyHtml) : textToHtml(letter.bodyText);
  const html = htmlDocument(`${body}\n${quote ? quoteHtml(quote) : ''}\n${footerHtml}`);

  return {
    from: input.from,
    to: input.to,
    replyTo: input.addresses.reply,
    envelope: { from: input.addresses.bounce, to: input.to },
    subject: letter.subject,
    messageId: letter.messageId,
    headers: {
      'X-MZ-Topic': topic.code,
      'X-MZ-Letter': letter.id,
      'Feedback-ID': feedbackId(topic.code, 'letter'),
      // RFC 2369 list of ways out, https first; RFC 8058 makes the https one a one-click POST.
      'List-Unsubscribe': `<${links.unsubscribe}>, <${links.unsubscribeMailto}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      ...AUTOMATED_HEADERS,
      ...providerHeaders(input.provider ?? 'smtp', { letterId: letter.id }),
    },
    text,
    html,
  };
}

export function renderLoginMail(input: LoginMailInput): OutgoingMail {
  const minutes = `${input.expiresInMinutes} minutes`;
  const starts = input.starts?.topicNames.length ? input.starts : null;
  const startsLine = starts
    ? `Signing in with it also starts your daily letters: ${starts.topicNames.join(', ')}, at ${starts.sendTime} (${starts.timezone}). Topics you already receive keep their settings.`
    : null;
  const text = [
    'Hello,',
    `Here is your link to sign in to Mentor Zero. It works once and expires in ${minutes}:`,
    input.link,
    startsLine,
    'If you did not ask for it, you can ignore this email: nobody can sign in without the link.',
  ].filter((p): p is string => p !== null).join('\n\n') + '\n';
  const html = htmlDocument([
    '<p>Hello,</p>',
    `<p>Here is your link to sign in to Mentor Zero. It works once and expires in ${minutes}.</p>`,
    startsLine ? `<p>${escapeHtml(startsLine)}</p>` : '',
    `<p><a href="${escapeHtml(input.link)}" style="display:inline-block;padding:10px 18px;background:#2b2b2b;color:#ffffff;text-decoration:none;border-radius:4px">Sign in to Mentor Zero</a></p>`,
    `<p style="color:#6b6b6b;font-size:13px">Or paste this address into your browser:<br>${escapeHtml(input.link)}</p>`,
    '<p style="color:#6b6b6b;font-size:13px">If you did not ask for it, you can ignore this email: nobody can sign in without the link.</p>',
  ].join('\n'));
  return {
    from: input.from,
    to: input.to,
    envelope: { from: input.bounceAddress, to: input.to },
    subject: 'Your sign-in link for Mentor Zero',
    messageId: input.messageId,
    headers: { 'Feedback-ID': feedbackId('login', 'transactional'), ...AUTOMATED_HEADERS, ...providerHeaders(input.provider ?? 'smtp', { loginTokenId: input.loginTokenId }) },
    text,
    html,
  };
}

function quoteText(q: { text: string; author: string }): string {
  return `“${q.text}”\n— ${q.author}`;
}

function quoteHtml(q: { text: string; author: string }): string {
  return `<blockquote style="margin:24px 0;padding:0 0 0 14px;border-left:3px solid #e5e1da;color:#4a4a4a;font-style:italic">` +
    `“${escapeHtml(q.text)}”<br><span style="font-style:normal">— ${escapeHtml(q.author)}</span></blockquote>`;
}

/** The composer stores a sanitised fragment; should it ever hold a whole document, keep only the body. */
function bodyFragment(html: string): string {
  const m = /<body[^>]*>([\s\S]*)<\/body>/i.exec(html);
  return (m ? m[1] : html).trim();
}

function textToHtml(text: string): string {
  return text.trim().split(/\n{2,}/).map((p) => `<p>${escapeHtml(p).replace(/\n/g, '<br>')}</p>`).join('\n');
}

function htmlDocument(inner: string): string {
  return [
    '<!doctype html>',
    '<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"></head>',
    '<body style="margin:0;padding:24px 12px;background:#faf8f5">',
    '<div style="max-width:600px;margin:0 auto;font-family:Georgia,\'Times New Roman\',serif;font-size:17px;line-height:1.6;color:#2b2b2b">',
    inner,
    '</div></body></html>',
  ].join('\n');
}
