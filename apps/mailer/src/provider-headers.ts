import type { MailProvider } from '@mz/contracts';

/** What one outgoing message is, in the terms a provider's event will echo back. */
export type ProviderRef = { letterId: string } | { loginTokenId: string };

/**
 * A header nodemailer must write as given: JSON values would otherwise be MIME-encoded
 * (`=?UTF-8?Q?…?=`), which the provider then cannot read. Ours are short ASCII (ids only).
 */
export interface PreparedHeader { prepared: true; value: string }
const prepared = (value: string): PreparedHeader => ({ prepared: true, value });

/** The custom-argument names we use with every provider (SendGrid unique args, Mailgun variables). */
export const PROVIDER_ARG = { letter: 'mz_letter', loginToken: 'mz_login_token' } as const;

/**
 * Headers that make a relay provider's bounce, complaint and delivery events name our message,
 * in the place each provider copies into its events:
 * - SendGrid: `X-SMTPAPI` unique args (each becomes a top-level field of every event);
 * - Mailgun: `X-Mailgun-Variables` (an event's `user-variables`);
 * - Postmark: `X-PM-Metadata-<key>` (an event's `Metadata`);
 * - SES: nothing extra — its notifications carry the original headers (`X-MZ-Letter`, our Message-ID);
 * - plain SMTP: nothing (DSNs come back to the signed bounce address).
 * Only ids: nothing personal travels to the provider beyond what the message itself holds.
 */
export function providerHeaders(provider: MailProvider, ref: ProviderRef): Record<string, string | PreparedHeader> {
  const args: Record<string, string> = 'letterId' in ref ? { [PROVIDER_ARG.letter]: ref.letterId } : { [PROVIDER_ARG.loginToken]: ref.loginTokenId };
  switch (provider) {
    case 'sendgrid':
      return { 'X-SMTPAPI': prepared(JSON.stringify({ unique_args: args })) };
    case 'mailgun':
      return { 'X-Mailgun-Variables': prepared(JSON.stringify(args)) };
    case 'postmark':
      return 'letterId' in ref ? { 'X-PM-Metadata-letter': ref.letterId } : { 'X-PM-Metadata-login-token': ref.loginTokenId };
    case 'ses':
      return 'letterId' in ref ? {} : { 'X-MZ-Login-Token': ref.loginTokenId };
    case 'smtp':
      return {};
  }
}
