import type { ParsedMessage } from './parsed-message';

// `mz.` must start the id ("<xmz.…" is someone else's); the domain runs to the closing bracket.
const LETTER_ID = /(?<![^\s<,;])<?mz\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})@([^<>\s]+?)>?(?=[\s,;<]|$)/gi;
const TOPIC_CODE = /^[a-z0-9-]{2,24}$/;
const SUBJECT_TAG = /\[mz:([a-z0-9-]{2,24})\]/gi;

/**
 * The letter a reply answers: the uuid in our Message-ID `<mz.{uuid}@{replyDomain}>` found in
 * In-Reply-To / References. Pass In-Reply-To first: the first value holding one of our ids wins,
 * and within a References list the newest (last) one. Ids on another domain are not ours.
 */
export function letterIdFromMessageIds(ids: (string | null | undefined)[], replyDomain: string): string | null {
  const domain = replyDomain.trim().toLowerCase();
  for (const value of ids) {
    if (!value) continue;
    let found: string | null = null;
    for (const m of value.matchAll(LETTER_ID)) {
      if (m[2].toLowerCase() === domain) found = m[1].toLowerCase();
    }
    if (found) return found;
  }
  return null;
}

/**
 * The topic a message names: our X-MZ-Topic header (kept only by clients that copy headers,
 * e.g. on forwards), else the last `[mz:<code>]` tag in the subject. Only a hint: the caller
 * must still check the sender is subscribed to it, because anyone can type a tag.
 */
export function topicCodeFromMessage(m: ParsedMessage): string | null {
  const header = m.headers['x-mz-topic']?.trim().toLowerCase();
  if (header && TOPIC_CODE.test(header)) return header;
  let code: string | null = null;
  for (const match of m.subject.matchAll(SUBJECT_TAG)) code = match[1].toLowerCase();
  return code;
}
