/**
 * How a stored reply's text (`inbound_message.reply_text`) is made up. apps/inbound stores the
 * message with quoted history removed — the subscriber's own words, then their signature, then a
 * message they forwarded — and records where the parts start in `analysis.extraction`; only the
 * own words are read by the intent rules, the LLM and the notes. The console marks the forwarded
 * part as such.
 */
export interface ReplyTextMarks {
  /** Length of the subscriber's own words at the start of the text. */
  ownEnd: number;
  /** Where the forwarded message starts (its separator line), or null when nothing was forwarded. */
  forwardedAt: number | null;
}
