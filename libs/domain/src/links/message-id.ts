/**
 * Stable Message-ID of a letter, derived from its id: a resend after a crash carries the same
 * one, and replies find the letter through In-Reply-To/References.
 */
export function letterMessageId(letterId: string, replyDomain: string): string {
  return `<mz.${letterId}@${replyDomain}>`;
}

const LETTER_MESSAGE_ID = /<mz\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})@([^>\s]+)>/i;

/** The letter id in one of our Message-IDs, or null (the domain must be ours). */
export function letterIdFromMessageId(messageId: string, replyDomain: string): string | null {
  const m = LETTER_MESSAGE_ID.exec(messageId);
  return m && m[2].toLowerCase() === replyDomain.toLowerCase() ? m[1].toLowerCase() : null;
}
