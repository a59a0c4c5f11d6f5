/**
 * The shape every analysis step reads: a plain, structured-clone-safe summary of one raw MIME
 * message, produced by {@link MessageParser} in a worker thread.
 */
export interface ParsedMessage {
  /** Normalised to `<id>`; null when the message has none. */
  messageId: string | null;
  inReplyTo: string | null;
  /** Message-IDs from the References header, oldest first, each as `<id>`. */
  references: string[];
  /** Address lower-cased; name decoded from RFC 2047 words. */
  from: { address: string; name: string } | null;
  /** Lower-cased addresses from To (groups flattened), capped at {@link MAX_TO_ADDRESSES}. */
  to: string[];
  subject: string;
  /** ISO-8601, or null when absent or unparseable. */
  date: string | null;
  /** Lower-case keys; repeated headers joined with ', '; unfolded and RFC 2047-decoded. */
  headers: Record<string, string>;
  /** The text/plain body as mailparser decoded it (charset, transfer encoding, format=flowed). */
  text: string;
  html: string | null;
  attachments: { filename: string | null; contentType: string; size: number }[];
  /**
   * Every leaf MIME part in order. `text` is filled only for report sub-parts the classifier
   * reads: message/delivery-status, message/feedback-report, text/rfc822-headers, and for
   * message/rfc822 the embedded message's header block.
   */
  parts: { contentType: string; text?: string }[];
}

export const MAX_TO_ADDRESSES = 100;
