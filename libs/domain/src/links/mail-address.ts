import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signed addresses on REPLY_DOMAIN. Each names exactly one thing we sent and proves we minted it:
 *
 *   r+<letter>.<sig>@REPLY_DOMAIN        Reply-To of a letter (a per-letter posting key)
 *   b+l<letter>.<sig>@REPLY_DOMAIN       envelope sender (VERP) of a letter: its DSNs/ARF come back here
 *   b+t<login token>.<sig>@REPLY_DOMAIN  envelope sender of a transactional mail (sign-in link)
 *   u+<subscription>.<sig>@REPLY_DOMAIN  RFC 2369 mailto unsubscribe of one subscription
 *
 * `<id>` is the uuid as 32 lower-case hex digits, `<sig>` the first 80 bits of an HMAC-SHA256 as 20
 * hex digits: lower-case hex because mail systems may lower-case local parts (RFC 5321 says they
 * must not, many do), and the whole local part stays ≤ 56 characters (the limit is 64). 80 bits
 * is ample for an online-only guess (every guess costs an SMTP transaction), and the check is
 * constant-time.
 *
 * Each kind signs with its own key, derived from one secret by HMAC with a label, so a signature
 * of one kind is never valid for another (a reply key cannot be turned into an unsubscribe).
 */
export type MailAddressKind = 'reply' | 'bounce_letter' | 'bounce_transactional' | 'unsubscribe';

export interface SignedAddress {
  kind: MailAddressKind;
  /** The uuid (with dashes, lower-case) of the letter, login token or subscription. */
  id: string;
}

const PREFIX: Record<MailAddressKind, string> = { reply: 'r+', bounce_letter: 'b+l', bounce_transactional: 'b+t', unsubscribe: 'u+' };
const SIG_HEX = 20;
const LOCAL = /^(r\+|b\+l|b\+t|u\+)([0-9a-f]{32})\.([0-9a-f]{20})$/;

/**
 * Derived keys by secret, then kind. A letter carries three signed addresses and inbound checks
 * one per mail, so the keys are derived once per secret instead of once per address (a keyed
 * HMAC each: a measurable share of the mailer's CPU per letter). Few secrets are ever live (one,
 * two while rotating); the map is emptied past a handful so arbitrary callers cannot grow it.
 */
const derivedKeys = new Map<string, Map<MailAddressKind, Buffer>>();
const MAX_CACHED_SECRETS = 4;

function keyFor(secret: string, kind: MailAddressKind): Buffer {
  let keys = derivedKeys.get(secret);
  if (!keys) {
    if (derivedKeys.size >= MAX_CACHED_SECRETS) derivedKeys.clear();
    derivedKeys.set(secret, (keys = new Map()));
  }
  let key = keys.get(kind);
  if (!key) keys.set(kind, (key = createHmac('sha256', secret).update(`mentor-zero mail address v1 ${kind}`).digest()));
  return key;
}

function signature(secret: string, kind: MailAddressKind, hex: string): string {
  return createHmac('sha256', keyFor(secret, kind)).update(hex).digest('hex').slice(0, SIG_HEX);
}

const toHex = (uuid: string) => uuid.replace(/-/g, '').toLowerCase();
const toUuid = (hex: string) => `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;

/** The signed address of `kind` for `id` on `domain`. */
export function signedAddress(kind: MailAddressKind, id: string, domain: string, secret: string): string {
  const hex = toHex(id);
  if (!/^[0-9a-f]{32}$/.test(hex)) throw new Error(`not a uuid: ${id}`);
  return `${PREFIX[kind]}${hex}.${signature(secret, kind, hex)}@${domain.toLowerCase()}`;
}

/**
 * What a signed address on `domain` names, or null: another domain, not one of our forms, or a
 * signature that does not verify. Case-insensitive, and a trailing dot on the domain is ignored.
 */
export function verifySignedAddress(address: string, domain: string, secret: string): SignedAddress | null {
  const at = address.lastIndexOf('@');
  if (at <= 0) return null;
  const host = address.slice(at + 1).trim().toLowerCase().replace(/\.$/, '');
  if (host !== domain.toLowerCase()) return null;
  const m = LOCAL.exec(address.slice(0, at).trim().toLowerCase());
  if (!m) return null;
  const kind = (Object.keys(PREFIX) as MailAddressKind[]).find((k) => PREFIX[k] === m[1])!;
  const expected = Buffer.from(signature(secret, kind, m[2]), 'utf8');
  const given = Buffer.from(m[3], 'utf8');
  return timingSafeEqual(expected, given) ? { kind, id: toUuid(m[2]) } : null;
}

/** True for a local part in one of the signed forms (valid or not): such an address must verify. */
export function looksSigned(address: string): boolean {
  const at = address.lastIndexOf('@');
  return /^(?:r\+|b\+|u\+)/i.test(at > 0 ? address.slice(0, at).trim() : address);
}

/**
 * The secret the addresses are signed with: MAIL_ADDRESS_SECRET when set, else one derived from
 * SESSION_SECRET under its own label — never SESSION_SECRET itself, so the address keys and the
 * cookie/unsubscribe-token keys cannot be confused even when one secret feeds both.
 */
export function mailAddressSecret(config: { MAIL_ADDRESS_SECRET?: string; SESSION_SECRET: string }): string {
  return config.MAIL_ADDRESS_SECRET || createHmac('sha256', config.SESSION_SECRET).update('mentor-zero mail address secret v1').digest('hex');
}
