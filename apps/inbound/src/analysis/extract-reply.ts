import { FORWARD_SEPARATOR, HR_MARK, QUOTE_CUT, QUOTE_MARK, htmlToReplyText } from './html-text';
import { LetterIndex, type OurLetter } from './letter-index';
import type { ParsedMessage } from './parsed-message';

export type { OurLetter } from './letter-index';

/** Longest reply text handed to rules, the LLM and the notes store. */
export const MAX_REPLY_CHARS = 4000;
/** Longest message stored and shown (`fullText`: own words, signature and forwarded message). */
export const MAX_MESSAGE_CHARS = 16_000;
/** Longest line the line rules look at; longer lines are the subscriber's text, never a header. */
const MAX_RULE_LINE = 1000;
/**
 * How much of a body is read: the subscriber writes at the top and our letters are short, so
 * beyond this it is history or abuse. Bounds the event-loop time of one extraction (R9); a
 * longer body is read up to here and the extraction marked uncertain (`input_truncated`).
 */
export const MAX_INPUT_CHARS = 128 * 1024;
const MAX_INPUT_LINES = 3000;

// Every pattern below is linear: no nested quantifiers, bounded `.{m,n}` runs on lines of at most
// MAX_RULE_LINE characters, alternations of literals (R9: no catastrophic backtracking on
// pathological mail; extract-reply.spec.ts times huge lines and deep quote runs).

// "From:" as the first line of a quoted header block, in the languages mail clients are set to
// (Outlook translates the labels; Gmail's forward header too).
const FROM_LABEL =
  /^\s*\*{0,2}(from|von|de|van|da|från|fra|od|mittente|remetente|от|від|lähettäjä|feladó|kimden|từ|보낸 사람|差出人|送信者|发件人|寄件者|發件人)\s*\*{0,2}\s*[:：]/i;
const DATE_LABEL = /^\s*\*{0,2}(date|sent|datum|gesendet|fecha|enviado|data|envoyé|verzonden|skickat|sendt|wysłano|дата|отправлено|надіслано|lähetetty|elküldve|enviat|日付|送信日時|发送时间|날짜|보낸 날짜)\s*\*{0,2}\s*[:：]/i;
const HEADER_LABEL =
  /^\s*\*{0,2}(sent|date|to|subject|cc|reply-to|gesendet|datum|an|betreff|envoyé|à|objet|enviado|enviada|fecha|para|asunto|inviato|data|a|oggetto|verzonden|aan|onderwerp|skickat|till|ämne|sendt|til|emne|wysłano|wysłane|do|temat|отправлено|кому|тема|дата|копия|надіслано|lähetetty|vastaanottaja|aihe|elküldve|címzett|tárgy|gönderildi|kime|konu|enviat|per a|assumpte|odesláno|komu|předmět|đã gửi|gửi|đến|chủ đề|받는 사람|날짜|제목|送信日時|日付|宛先|件名|发送时间|收件人|主题)\s*\*{0,2}\s*[:：]/i;
const ADDRESS_CHAR = /[^\s<>()[\]"':;,@]/;
/**
 * Whether a line carries an e-mail address (or a mailto:). A scan from each "@", not a regex:
 * `[^…]+@[^…]+` backtracks quadratically on "a@a@a@…" lines.
 */
function hasAddress(s: string): boolean {
  if (/mailto:/i.test(s)) return true;
  for (let at = s.indexOf('@'); at > 0; at = s.indexOf('@', at + 1)) {
    if (!ADDRESS_CHAR.test(s[at - 1])) continue;
    let j = at + 1;
    let dot = -1;
    while (j < s.length && ADDRESS_CHAR.test(s[j])) {
      if (s[j] === '.') dot = j;
      j++;
    }
    if (dot > at + 1 && /^[a-z]{2}/i.test(s.slice(dot + 1, j))) return true;
  }
  return false;
}

// A separator line: words between rules of dashes/underscores/equals naming a message ("-----Original
// Message-----", "-------- Oprindelig besked --------", "-----Reply Message-----" in any of these
// languages), or one of the known unruled forms.
const RULE_CHAR = /[-–—_=*\s]/;
/** The words between rules ("-----Original Message-----" → "Original Message"), or null; linear. */
function ruledWords(t: string): string | null {
  if (t.length > 200) return null;
  let a = 0;
  while (a < t.length && RULE_CHAR.test(t[a])) a++;
  let b = t.length;
  while (b > a && RULE_CHAR.test(t[b - 1])) b--;
  const rules = (x: string) => x.replace(/\s/g, '').length;
  const words = t.slice(a, b);
  return rules(t.slice(0, a)) >= 3 && rules(t.slice(b)) >= 3 && words.length >= 3 && words.length <= 60 ? words : null;
}
const MESSAGE_WORD =
  /(message|messaggio|mensaje|mensagem|nachricht|meddelelse|meddelande|melding|bericht|besked|viesti|üzenet|wiadomość|wiadomosc|сообщение|письмо|повідомлення|zpráva|mesaj|reply|antwort|svar|respuesta|réponse|risposta|forward|weitergeleitet|transféré|reenviado|inoltrato|doorgestuurd|vidarebefordrat|videresendt|original|ursprünglich|oprindelig|opprinnelig|alkuperäinen|eredeti|oryginalna|исходное|оригинальное|元のメッセージ|転送|原始邮件|原始郵件)/i;
const SEPARATOR =
  /^[-–—_=*\s]*(original message|ursprüngliche nachricht|originalnachricht|message d'origine|mensaje original|messaggio originale|oorspronkelijk bericht|mensagem original|originalmeddelande|opprinnelig melding|oprindelig meddelelse|forwarded message|weitergeleitete nachricht|message transféré|mensaje reenviado|messaggio inoltrato|doorgestuurd bericht|mensagem encaminhada|vidarebefordrat meddelande|begin forwarded message|anfang der weitergeleiteten nachricht|début du message réexpédié|元のメッセージ|転送されたメッセージ)\s*:?[-–—_=*\s]*$/i;
const RULE_LINE = /^[-–—_=*]{10,}$/;

// Attribution lines ("On … wrote:"). The verbs of many languages, then the evidence that it is a
// header and not a sentence: an address, a time or a year on the (possibly wrapped) line.
const WROTE =
  '(wrote|sent|schrieb|a écrit|a ecrit|escribió|escribio|va escriure|ha scritto|scrisse|schreef|het volgende geschreven|escreveu|skrev|kirjoitti|napisał\\(a\\)|napisała|napisał|napisal|napsal\\(a\\)|napsala|napsal|написал\\(а\\)|написала|написал|пишет|написав|пише|írta|đã viết|yazdı|写道|寫道|작성[^\\s:：]{0,4}|のメッセージ|のメール|が書きました|は書きました)';
const ATTR_VERB_END = new RegExp(`${WROTE}\\s*[:：]?$`, 'iu');
const ATTR_DASHED = new RegExp(`^-{2,}\\s*([^\\s-].{0,298}?)\\s+${WROTE}\\s*-{2,}$`, 'iu');
const HAS_TIME_OR_YEAR = /\d{1,2}[:.h]\d{2}|\b(19|20)\d{2}\b|\d{4}\s*年/;
// "2014-03-20 8:48 GMT+01:00 Name <a@b>:", "30.09.2017, 18.30, "Name" <a@b>:", mail.ru "… от Name <a@b>:"
const ATTR_DATED_ADDRESS = /[:：]$/;
// Gmail of old: "2011/4/7 Name <a@b>" without a colon.
const ATTR_OLD_GMAIL = /^\d{4}\/\d{1,2}\/\d{1,2}\b.{1,200}<[^<>\s@]{1,64}@[^<>\s@]{1,255}>$/;

// How a standalone attribution begins (its first word, or a date), to tell it from a wrapped tail.
const ATTR_START = /^(on|am|le|el|il|op|em|den|dnia|w dniu|på|vào|\d)\b/i;

const MOBILE_SIGNATURE =
  /^(sent from my\b|sent from (mail|outlook|yahoo|samsung|proton|my iphone|my ipad|typeapp|mailbox|aol)\b|sent (with|via) (typeapp|sparrow|blackberry|mailbox|proton|airmail|spark|newton)\b|sent on the go\b|get outlook for (ios|android)|von meinem .{1,40} gesendet|gesendet von meinem\b|envoyé de mon\b|envoyé depuis\b|enviado desde mi\b|enviado do meu\b|enviado desde outlook\b|inviato da\b|(verzonden|verstuurd) (vanaf|met) mijn\b|lähetetty iphonesta\b|发自我的|.{1,20}에서 보냄|skickat från min\b|sendt fra min\b|wysłane z\b|отправлено (с|из)\s|надіслано з\s|enviat des del meu\s|gửi từ\s|odesláno z\s|.{1,20}-(ról|ről) küldve$|.{1,25}gönderildi$|.{1,20}から送信|(gesendet von|envoyé à partir de|enviado de|enviado desde|inviato da|verzonden met|skickat från|sendt fra|wysłane z|отправлено из) outlook\b)/i;
// A short "Sent from <product>" last line with no sentence in it ("Sent from Mail for Windows 10",
// "Sent via Superhuman"): the product has a capitalised name or a number. "Sent from a magnificent
// torch of pixels" names none and is the subscriber's joke; "Sent from my desk, is much easier…"
// is a sentence. Both stay.
const SENT_FROM_TAIL = /^(sent|envoyé|enviado|inviato|verstuurd|verzonden|gesendet|skickat|sendt|wysłane|отправлено)\s+(from|with|via|de|depuis|desde|do|da|vanaf|met|von|från|fra|z|с)\s([^.,;!?]{1,50})$/i;
const NAMES_PRODUCT = /(^|\s)[\p{Lu}\d]/u;
// Formal sign-offs alone on a line; with only a few short lines below them, they and the lines are
// a signature. "Thanks!" is not one of them: it is often the whole reply.
const SIGN_OFF =
  /^(regards|best regards|kind regards|warm regards|best wishes|cheers|sincerely|yours sincerely|yours truly|cordialement|bien à vous|bien cordialement|mit freundlichen grüßen|viele grüße|liebe grüße|beste grüße|saludos|un saludo|atentamente|cordiali saluti|distinti saluti|met vriendelijke groet(en)?|vriendelijke groet(en)?|med vänlig hälsning|vänliga hälsningar|med venlig hilsen|mvh|pozdrawiam|z poważaniem|с уважением|atenciosamente|abraços)\s*[,.!]?$/i;

const DASH_NAME = /^[-–—~]\p{Lu}[\p{L}'’.-]{0,30}(\s\p{Lu}[\p{L}'’.-]{0,30}){0,2}$/u;

// Our own footer (see mailer templates), in case it survives unquoted, e.g. under an Outlook
// header block we did not recognise or in a forward. Its "Unsubscribe" must never be read.
// The translated footers (libs/contracts TRANSLATED_FOOTERS: de, fr, es) likewise: "abbestellen"
// or "désabonner" in a quoted German or French footer must never be read either.
const FOOTER_START = /you are receiving this because you subscribed to\b|du erhältst diese e-mail, weil du\b|vous recevez cet e-mail parce que vous\b|recibes este correo porque te suscribiste\b/iu;
const FOOTER_LINES = [
  /reply to this email to tell your mentor how it went/i, /^your settings\s*:?/i, /^\s*unsubscribe from\b/i,
  /antworte auf diese e-mail und erzähl deinem mentor/iu, /^deine einstellungen\s*:?/iu, /^\s*\S.{0,80} abbestellen\s*:/iu,
  /répondez à cet e-mail pour dire à votre mentor/iu, /^vos réglages\s*:?/iu, /^\s*se désabonner de\b/iu,
  /responde a este correo para contarle a tu mentor/iu, /^tus ajustes\s*:?/iu, /^\s*darte de baja de\b/iu,
];
const OUR_LINK = /https?:\/\/\S{1,200}?\/(u|login)\/[A-Za-z0-9._~%-]{6,}/i;

const DECORATION = /^[\s\-–—_=*~]*$/;
// "Message du : 12/12/2016 13:20": a label and a date directly above a header block.
const LABEL_LINE = /^[\p{L}][\p{L} ]{1,25}\s?[:：]\s.{0,80}\d/u;

function unwrapDashes(t: string): string {
  return t.replace(/^[-–—_*=\s]+/, '').replace(/[-–—_*=\s]+$/, '');
}

// Known forms with the verb inside the line ("Am 26.11.26 um 07:00 schrieb Mentor Zero:"); first
// those that start with their own word ("On", "Am", "Le", …).
const ATTR_LEADING: RegExp[] = [
  /^on\b.{3,300}\bwrote\s*:?$/i,
  /^am\b.{3,300}\bschrieb\b.{0,160}:$/i,
  /^le\b.{3,300}\ba écrit\s*:?$/i,
  /^el\b.{3,300}\bescribió\s*:?$/i,
  /^il\b.{3,300}\bha scritto\s*:?$/i,
  /^op\b.{3,300}\bschreef\b.{0,160}:$/i,
  /^(em|no dia)\b.{3,300}\bescreveu\s*:?$/i,
  /^den\b.{3,300}\bskrev\b.{0,160}:$/i,
];
const ATTR_KNOWN: RegExp[] = [
  ...ATTR_LEADING,
  /^.{0,160}<[^<>\s@]{1,64}@[^<>\s@]{1,255}>\)?\s+(wrote|schrieb|a écrit|escribió|ha scritto|schreef|escreveu|skrev)\b.{0,160}:$/i,
  // Gmail (ja): "2026年11月26日(木) 8:00 Mentor Zero <mentor@…>:"
  /^\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日.{0,250}[:：]$/,
];

/**
 * Whether `text` (one line, or a wrapped header joined with spaces) is an attribution line. An
 * address, a time or a year is the evidence; with `quoteBelow` (">" lines follow) the quote is
 * evidence enough ("On Monday, Mentor wrote:" over "> …"), while "On Monday my coach wrote:" over
 * unquoted text stays the subscriber's.
 */
export function isAttribution(text: string, quoteBelow = false): boolean {
  if (text.length > 400) return false;
  const t = text.trim();
  // Every form below ends in a colon, ">", dashes or "wrote": a cheap test spares the rest.
  if (!/([:：>-]|wrote)$/i.test(t)) return false;
  if (ATTR_KNOWN.some((re) => re.test(t))) return quoteBelow || hasAddress(t) || HAS_TIME_OR_YEAR.test(t);
  if (ATTR_DASHED.test(t)) return true; // "---- John Smith wrote ----" (Android, Zoho)
  const u = unwrapDashes(t).replace(/[-–—]+$/, '').trim();
  if (!u) return false;
  const evidence = hasAddress(u) || HAS_TIME_OR_YEAR.test(u);
  if (ATTR_VERB_END.test(u)) return evidence && (/[:：]$/.test(u) || /\bwrote$/i.test(u) || t !== u);
  if (ATTR_OLD_GMAIL.test(u)) return true;
  // No verb: a line ending in a colon with an address and a time or year ("2014-03-20 8:48
  // GMT+01:00 Name <a@b>:", "26.06.2014, 14:41, "Name" <a@b>:").
  return ATTR_DATED_ADDRESS.test(u) && hasAddress(u) && HAS_TIME_OR_YEAR.test(u) && u.length <= 300;
}

/** Number of lines (1–3) an attribution starting at `i` spans, or 0. */
function attributionLength(lines: string[], i: number): number {
  let joined = '';
  for (let k = 0; k < 3 && i + k < lines.length; k++) {
    const t = lines[i + k].trim();
    if (!t && k > 0) return scatteredAttributionLength(lines, i);
    if (!t || t === QUOTE_CUT || t.length > MAX_RULE_LINE) return 0;
    if (t.startsWith('>') && !(k > 0 && /^>\s*[:：]?$/.test(t))) return 0; // Gmail's wrapped "<\n>:" is not a quote
    if (k > 0) {
      // Only a wrapped header continues: the line before carries a date/time or an address and does
      // not end a sentence, and this line is not an attribution of its own ("On holiday until
      // Friday." directly above "On Thu, … wrote:" is the subscriber's text).
      if (/[.!?。！？]$/.test(joined) || !/[\d@<(]/.test(joined) || (ATTR_START.test(t) && isAttribution(t))) return 0;
    }
    joined = k === 0 ? t : `${joined} ${t}`;
    if (joined.length > 400) return 0;
    const below = nextNonBlank(lines, i + k + 1);
    const quoteBelow = below >= 0 && (lines[below].trim().startsWith('>') || lines[below].trim().startsWith(QUOTE_MARK));
    if (isAttribution(joined, quoteBelow)) return k + 1;
  }
  return 0;
}

/**
 * An attribution its client scattered over a few short lines with blank lines between (Polymail:
 * "On Tue, Apr 11, 2017 at 10:07 PM John Smith" / "" / "<" / "mailto:John <j@x>" / "> wrote:"):
 * it starts like an attribution with a date or time, ends with the verb and a colon within six
 * lines, and every line between is short and no sentence. Number of lines spanned, or 0.
 */
function scatteredAttributionLength(lines: string[], i: number): number {
  const first = lines[i].trim();
  if (first.length > 200 || !ATTR_START.test(first) || !HAS_TIME_OR_YEAR.test(first) || /[.!?。！？:：]$/.test(first)) return 0;
  let joined = first;
  let blanks = 0;
  for (let j = i + 1; j < Math.min(lines.length, i + 7); j++) {
    const t = lines[j].trim();
    if (!t) {
      blanks++;
      continue;
    }
    if (t.length > 80 || t === QUOTE_CUT || t.startsWith(QUOTE_MARK) || /[\p{L}\p{N}][.!?。！？]$/u.test(t)) return 0;
    // Only the verb line may carry a quote marker: its client broke "<…>" over lines.
    const bare = t.replace(/^>\s*/, '');
    if (bare !== t && !ATTR_VERB_END.test(bare)) return 0;
    joined = `${joined} ${bare}`;
    if (ATTR_VERB_END.test(bare)) return blanks > 0 && /[:：]$/.test(bare) && (hasAddress(joined) || HAS_TIME_OR_YEAR.test(joined)) ? j - i + 1 : 0;
  }
  return 0;
}

/** "reply text--- On Wed, … wrote:": the part before an attribution sharing its line, or null. */
function textBeforeInlineAttribution(t: string): string | null {
  if (t.length > MAX_RULE_LINE) return null;
  // The first few runs of dashes only: each try is one isAttribution on the rest of the line.
  let tries = 0;
  for (let at = t.indexOf('--', 1); at > 0 && tries < 3; at = t.indexOf('--', at + 2), tries++) {
    let end = at;
    while (t[end] === '-') end++;
    const before = t.slice(0, at).trimEnd();
    const rest = t.slice(end).trim();
    if (before && rest.length >= 11 && rest.length <= 400 && isAttribution(rest)) return before;
    at = end - 2;
  }
  // "reply On Wed, Apr 4, 2012 at 3:59 PM, bob@example.com wrote:": the answer and the attribution
  // on one line, no dashes. Only a known attribution form starting with its capitalised word ("On
  // … wrote:", "Am … schrieb …:"; not the "AM" of a time) with an address or a time counts, and
  // the first few such words only.
  if (!/([:：]|wrote)$/i.test(t) || ATTR_START.test(t)) return null;
  const start = /\s(On|Am|Le|El|Il|Op|Em|Den)\s/g;
  tries = 0;
  for (let m = start.exec(t); m && tries < 3; m = start.exec(t), tries++) {
    const before = t.slice(0, m.index).trimEnd();
    const rest = t.slice(m.index + 1);
    if (/[\p{L}\p{N}]/u.test(before) && rest.length <= 400 && ATTR_LEADING.some((re) => re.test(rest)) && isAttribution(rest)) return before;
  }
  return null;
}

function nextNonBlank(lines: string[], from: number): number {
  for (let j = from; j < lines.length; j++) if (lines[j].trim() && lines[j].trim() !== HR_MARK) return j;
  return -1;
}

/**
 * A quoted mail's header block: "From:"/"Date:" followed closely by another label (French "De :
 * / À :", Russian "От: / Отправлено: / Кому:", …), or a lone "From:" line carrying an address.
 */
function isHeaderBlock(lines: string[], i: number): boolean {
  const line = lines[i];
  if (line.length > MAX_RULE_LINE) return false;
  const from = FROM_LABEL.test(line);
  if (!from && !DATE_LABEL.test(line)) return false;
  let labels = 0;
  for (let j = i + 1; j < Math.min(lines.length, i + 7); j++) if (lines[j].length <= MAX_RULE_LINE && HEADER_LABEL.test(lines[j])) labels++;
  if (labels >= 1 && (from || labels >= 1) && /[\d@]/.test(lines.slice(i, i + 7).join(' '))) return true;
  const prev = i === 0 ? '' : lines[i - 1].trim();
  return from && hasAddress(line) && (!prev || prev === HR_MARK || RULE_LINE.test(prev) || ruledWords(prev) !== null || SEPARATOR.test(prev));
}

/**
 * A quoted line its client wrapped without repeating the marker: a short line right after a long
 * quoted one and right before another quoted line ("> … pharetra d" / "ignissim odio?" / ">").
 * An inline answer stands apart (blank lines) or follows a short quoted question.
 */
function isWrappedQuoteTail(lines: string[], i: number): boolean {
  if (i === 0 || i + 1 >= lines.length) return false;
  const prev = lines[i - 1].trim();
  const next = lines[i + 1].trim();
  const t = lines[i].trim();
  // The quoted line broke mid-sentence, and this one goes on in lower case ("eget accumsan…",
  // "_nonce=…)"): an answer ("Yes, done.") starts a sentence of its own.
  return isQuoted(prev) && prev.length >= 40 && !/[.!?:;]$/.test(prev) && isQuoted(next) && t.length <= 60 && /^[^\p{Lu}\s]/u.test(t);
}

/**
 * A line of nothing but a link (and brackets or a stray ">") between two quoted lines below an
 * attribution: its client broke a quoted line before the link and lost the marker
 * (" (http://example.com/c/YzOTYzMmE) >"). No words of the subscriber's are in it.
 */
function isQuotedLinkLine(lines: string[], i: number, attributed: boolean): boolean {
  if (!attributed || i === 0 || i + 1 >= lines.length) return false;
  const t = lines[i].trim();
  if (t.length > 300 || !isQuoted(lines[i - 1].trim()) || !isQuoted(lines[i + 1].trim())) return false;
  const rest = t.replace(/https?:\/\/\S{1,280}/gi, '');
  return rest !== t && !/[\p{L}\p{N}]/u.test(rest);
}

function isHeaderLine(t: string): boolean {
  return t.length <= MAX_RULE_LINE && (FROM_LABEL.test(t) || DATE_LABEL.test(t) || HEADER_LABEL.test(t));
}

function isFooterRemnant(t: string): boolean {
  if (t.length > MAX_RULE_LINE) return false;
  if (FOOTER_LINES.some((re) => re.test(t))) return true;
  const link = OUR_LINK.exec(t);
  // A line that is (almost) only one of our links: "Your settings: <…>", "<…/u/…>".
  return !!link && t.replace(link[0], '').replace(/[<>()[\]\s:]/g, '').length < 40;
}

function isQuoted(t: string): boolean {
  return t.startsWith('>') && !/<<<\s*$/.test(t); // ">>> http://… <<<" is a banner, not a quote
}

/** One line of the reply after the line rules; `kind` says why a line was set aside. */
interface Line {
  text: string;
  /** `loose`: a ">" line with no attribution or header anywhere above it. */
  kind: 'text' | 'quoted' | 'marked' | 'loose';
}

export interface ReplyExtraction {
  /**
   * What the subscriber wrote themselves (see {@link extractReplyText}): no quoted history, no
   * signature, nothing they forwarded. The only part the intent rules, the LLM and the notes read.
   */
  text: string;
  /**
   * The message as stored and shown: what is left once quoted history is removed (the quotation
   * stage). `fullText.slice(0, ownEnd)` is the subscriber's own words (`text`, unless longer than
   * MAX_REPLY_CHARS), then comes their signature or sign-off, if any, then from `forwardedAt` the
   * message they forwarded. Our letter and our footer are never in it, forwarded or quoted.
   */
  fullText: string;
  /** Length of the subscriber's own words at the start of `fullText`. */
  ownEnd: number;
  /** Where in `fullText` the forwarded message starts (its separator line), or null. */
  forwardedAt: number | null;
  /** Set when a block was kept although it may be quoted, or nothing was left of a non-empty body. */
  uncertain: boolean;
  /** Why: `kept_unattributed_quote`, `empty_extraction`. */
  reasons: string[];
  /** Whether the letter we sent was recognised in the reply (quoted or pasted). */
  letterFound: boolean;
}

/** Strips quoted history, signatures and our footer from plain text; see {@link extractReplyText}. */
export function extractFromText(input: string, letter?: OurLetter | LetterIndex | null): string {
  return analyseText(input, letter).text;
}

function toIndex(letter: OurLetter | LetterIndex | null | undefined): LetterIndex | null {
  if (!letter) return null;
  return letter instanceof LetterIndex ? letter : LetterIndex.of(letter);
}

export function analyseText(input: string, letterArg?: OurLetter | LetterIndex | null, fromHtml = false): ReplyExtraction {
  const letter = toIndex(letterArg);
  // The private-use markers are ours only when our HTML converter wrote them (it strips any the
  // mail carried); in plain text they are forged and count for nothing.
  const reasons = new Set<string>();
  let body = input.length > MAX_INPUT_CHARS ? input.slice(0, MAX_INPUT_CHARS) : input;
  if (!fromHtml) body = body.replace(/[\uE000-\uE002]/g, '');
  const lines = body
    .replace(/\r\n?/g, '\n')
    .replace(/[\u200b-\u200d\u2060\ufeff]/g, '')
    .replace(/\u00a0/g, ' ')
    .split('\n', MAX_INPUT_LINES + 1);
  if (input.length > MAX_INPUT_CHARS || lines.length > MAX_INPUT_LINES) {
    lines.length = Math.min(lines.length, MAX_INPUT_LINES);
    reasons.add('input_truncated');
  }
  const kept: Line[] = [];
  // Where history (an attribution or header over an unquoted original) starts in `kept`: without
  // our letter everything from there is dropped; with it, only what is not an inline answer.
  let historyAt = -1;
  // Where the scan stopped (without our letter): what follows is history or a signature.
  let stoppedAt = lines.length;
  let attributed = false;
  let footerInHistory = false;
  // Where the subscriber's signature ("-- ", "Sent from my iPhone") starts, when it comes before
  // any history; where a message they forwarded starts (its separator line).
  let signatureAt = -1;
  let forwardAt = -1;
  const markHistory = (): void => {
    attributed = true;
    if (historyAt < 0) {
      // Rules, blank lines and a header's first label line ("Message du : 12/12/2016 13:20") that
      // stand right above the history belong to it.
      let k = kept.length;
      if (k > 0 && LABEL_LINE.test(kept[k - 1].text.trim())) k--;
      while (k > 0 && DECORATION.test(kept[k - 1].text)) k--;
      kept.length = k;
      historyAt = k;
    }
  };
  const cutHere = (): boolean => {
    markHistory();
    return !letter; // true: stop scanning
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const t = line.trim();
    if (t === QUOTE_CUT) {
      // A forward's container (HTML) after nothing but the subscriber's words: kept apart.
      const next = nextNonBlank(lines, i + 1);
      if (historyAt < 0 && forwardAt < 0 && next >= 0 && FORWARD_SEPARATOR.test(lines[next].trim())) forwardAt = next;
      if (cutHere()) {
        stoppedAt = i;
        break;
      }
      continue;
    }
    if (t === HR_MARK) {
      const next = nextNonBlank(lines, i + 1);
      if (next >= 0 && (isHeaderBlock(lines, next) || attributionLength(lines, next))) {
        if (cutHere()) {
        stoppedAt = i;
        break;
      }
        continue;
      }
      kept.push({ text: '', kind: 'text' });
      continue;
    }
    if (t.startsWith('>') && isQuoted(t)) {
      // No attribution, header or separator starts with ">": the cheap path for long quotes.
      kept.push({ text: t, kind: attributed ? 'quoted' : 'loose' });
      continue;
    }
    if (t.length <= MAX_RULE_LINE) {
      const ruled = ruledWords(t);
      if (SEPARATOR.test(t) || (ruled !== null && MESSAGE_WORD.test(ruled))) {
        // A forward the subscriber wrote above (or nothing above): history for their own words,
        // kept apart in the full text.
        if (historyAt < 0 && forwardAt < 0 && FORWARD_SEPARATOR.test(t)) forwardAt = i;
        if (cutHere()) {
        stoppedAt = i;
        break;
      }
        continue;
      }
      if (RULE_LINE.test(t)) {
        const next = nextNonBlank(lines, i + 1);
        if (next >= 0 && (FROM_LABEL.test(lines[next]) || DATE_LABEL.test(lines[next]))) {
          if (cutHere()) {
        stoppedAt = i;
        break;
      }
          continue;
        }
      }
    }
    if (isHeaderBlock(lines, i)) {
      if (cutHere()) {
        stoppedAt = i;
        break;
      }
      // Skip the header lines themselves.
      while (i + 1 < lines.length && lines[i + 1].trim() && lines[i + 1].trim() !== HR_MARK) i++;
      continue;
    }
    const marked = t.startsWith(QUOTE_MARK);
    const inline = marked ? null : textBeforeInlineAttribution(t);
    const span = inline === null ? attributionLength(lines, i) : 1;
    if (span) {
      attributed = true;
      if (inline) kept.push({ text: inline, kind: 'text' });
      const next = nextNonBlank(lines, i + span);
      // Quoted below (">" or an HTML quote): drop just the attribution and keep any interleaved
      // answers. Anything else (the original pasted unquoted) is history from here on.
      if (next < 0 || isQuoted(lines[next].trim()) || lines[next].trim().startsWith(QUOTE_MARK)) {
        // The quote below an attribution is history, whatever its markers.
        for (let j = i + span; j < lines.length && (!lines[j].trim() || lines[j].trim() === HR_MARK || lines[j].trim().startsWith(QUOTE_MARK)); j++) {
          if (lines[j].trim()) lines[j] = '>';
        }
        i += span - 1;
        continue;
      }
      if (cutHere()) {
        stoppedAt = i;
        break;
      }
      i += span - 1;
      continue;
    }
    if (marked) {
      kept.push({ text: t.slice(QUOTE_MARK.length), kind: 'marked' });
      continue;
    }
    if (isQuoted(t)) {
      kept.push({ text: t, kind: attributed ? 'quoted' : 'loose' });
      continue;
    }
    if (isQuotedLinkLine(lines, i, attributed)) {
      kept.push({ text: `>${t}`, kind: 'quoted' });
      continue;
    }
    if (isWrappedQuoteTail(lines, i)) {
      kept.push({ text: `>${t}`, kind: 'quoted' });
      continue;
    }
    if (t === '--' || t === '-- ') {
      if (historyAt < 0) signatureAt = i;
      markHistory();
      stoppedAt = i + 1;
      break; // RFC 3676 signature delimiter "-- " (often trimmed to "--" by clients)
    }
    // "Sent from my iPhone" ends the text; "Sent from my desk, is much easier…" is a sentence.
    if (t.length <= 80 && MOBILE_SIGNATURE.test(t) && !/[,;.!?]\s+\S/.test(t)) {
      if (historyAt < 0) signatureAt = i;
      markHistory();
      stoppedAt = i + 1;
      break;
    }
    if (FOOTER_START.test(t)) {
      // Our footer ends our letter: in the history, what stands above it sits inside our letter.
      if (historyAt >= 0) footerInHistory = true;
      markHistory();
      stoppedAt = i + 1;
      break;
    }
    if (isFooterRemnant(t)) continue;
    kept.push({ text: line, kind: 'text' });
  }

  const replyPart = historyAt < 0 ? kept : kept.slice(0, historyAt);
  const history = historyAt < 0 ? [] : kept.slice(historyAt);
  const blocks = toBlocks(replyPart);
  let letterFound = false;
  const out: string[][] = [];
  // Our letter pasted unquoted: its short paragraphs ("Dear Sam,", "Your mentor") go with it when
  // they stand next to a paragraph of it. Alone, a short paragraph is the subscriber's ("Practice").
  const pasted = blocks.map((b) => b.kind === 'text' && !!letter && letter.matches(b.lines));
  blocks.forEach((b, k) => {
    if (letter && b.kind === 'text' && !pasted[k] && letter.covers(b.lines) && (pasted[k - 1] || pasted[k + 1])) pasted[k] = true;
  });
  for (const [k, b] of blocks.entries()) {
    if (pasted[k]) {
      letterFound = true;
      continue;
    }
    if (b.kind === 'loose' && letter) {
      // A ">" block with no attribution above it, when we know our letter: history if it is our
      // letter or our footer, or quotes a quote; otherwise perhaps the subscriber's own quotation
      // (a line they answer, a "> 5 minutes" aside). Kept, and said so.
      const bare = b.lines.map((l) => l.replace(/^>\s?/, ''));
      const history = letter.matches(bare) || b.lines.some((l) => /^>\s*>/.test(l)) || bare.some((l) => FOOTER_START.test(l) || isFooterRemnant(l) || OUR_LINK.test(l));
      if (history) {
        if (letter.matches(bare)) letterFound = true;
        continue;
      }
      reasons.add('kept_unattributed_quote');
      out.push(b.lines);
      continue;
    }
    if (b.kind === 'quoted' || b.kind === 'loose') {
      if (letter && letter.matches(b.lines)) letterFound = true;
      continue;
    }
    if (letter && letter.matches(b.lines)) {
      letterFound = true;
      continue;
    }
    if (b.kind === 'marked' && b.lines.some((l) => FOOTER_START.test(l) || isFooterRemnant(l.trim()) || OUR_LINK.test(l))) continue;
    if (b.kind === 'marked') {
      // An HTML <blockquote> without an attribution above it: perhaps the subscriber's own
      // quotation, perhaps history. Keep it, and say so.
      reasons.add('kept_unattributed_quote');
    }
    out.push(b.lines);
  }
  if (letter && history.length) {
    // Below the history start: inline answers sit between paragraphs of our letter; what follows
    // the last of them is older history.
    const hb = toBlocks(history);
    let lastMatch = -1;
    hb.forEach((b, k) => {
      if (letter.matches(b.lines)) lastMatch = k;
    });
    if (lastMatch >= 0) letterFound = true;
    // Our footer closes our letter: answers between its last paragraph and the footer count too,
    // but only when our letter was recognised there at all (a letter we cannot match in the
    // reply says nothing about where it sits).
    if (footerInHistory && lastMatch >= 0) lastMatch = hb.length;
    // Short paragraphs made only of our letter's words ("Dear Sam,", "Your mentor") are ours too here.
    for (let k = 0; k < lastMatch; k++) {
      const b = hb[k];
      if (b.kind !== 'quoted' && b.kind !== 'loose' && !letter.matches(b.lines) && !letter.covers(b.lines) && !b.lines.every(isHeaderLine) && !b.lines.every((l) => DECORATION.test(l))) out.push(b.lines);
    }
  }
  const flat = out.flatMap((b, k) => (k ? ['', ...b] : b));
  const own = flat.slice();
  dropSignature(own);
  const text = normalise(own.join('\n'));
  // Nothing left, yet something below the cut was neither quoted, nor a header, nor our letter:
  // perhaps the subscriber's words in a layout we do not know. A person should look.
  if (!text && hasUnexplainedText(lines.slice(stoppedAt), letter, historyAt < 0 ? [] : kept.slice(historyAt))) reasons.add('empty_extraction');

  // The quotation stage's result, the message as stored and shown: the own words, then the
  // signature (what dropSignature took off, and the lines from a "-- " or "Sent from …" line down
  // to where history starts), then a forwarded message. Only the own words are ever read.
  const signature = flat.slice(own.length);
  if (signatureAt >= 0) {
    let j = signatureAt;
    while (j < lines.length && !startsHistory(lines, j)) j++;
    for (const l of lines.slice(signatureAt, j)) if (!isFooterRemnant(l.trim())) signature.push(l === HR_MARK ? '' : l);
    if (forwardAt < 0 && j < lines.length) {
      const at = lines[j].trim() === QUOTE_CUT ? nextNonBlank(lines, j + 1) : j;
      if (at >= 0 && FORWARD_SEPARATOR.test(lines[at].trim())) forwardAt = at;
    }
  }
  const forwarded = forwardAt >= 0 ? forwardedMessage(lines, forwardAt, letter) : null;
  if (forwarded?.letterFound) letterFound = true;
  const parts: string[] = [];
  let room = MAX_MESSAGE_CHARS;
  const add = (lines: string[]): number => {
    const at = parts.length ? parts.join('\n\n').length + 2 : 0;
    const part = room > 200 ? normalise(lines.join('\n'), room) : '';
    if (!part) return -1;
    parts.push(part);
    room -= part.length + 2;
    return at;
  };
  const ownEnd = add(own) === 0 ? parts[0].length : 0;
  add(withoutOurLetter(signature, letter).lines);
  const forwardStart = forwarded ? add(forwarded.lines) : -1;
  const fullText = parts.join('\n\n');
  return { text, fullText, ownEnd, forwardedAt: forwardStart >= 0 ? forwardStart : null, uncertain: reasons.size > 0, reasons: [...reasons], letterFound };
}

/**
 * Whether history starts at line `i`, by the same rules as the scan in {@link analyseText}: a
 * quote, an attribution, a header block, a separator, a cut, our footer. Used below a signature.
 */
function startsHistory(lines: string[], i: number): boolean {
  const t = lines[i].trim();
  if (t === QUOTE_CUT || t.startsWith(QUOTE_MARK) || isQuoted(t)) return true;
  if (t.length > MAX_RULE_LINE) return false;
  if (t === HR_MARK || RULE_LINE.test(t)) {
    const next = nextNonBlank(lines, i + 1);
    return next >= 0 && (isHeaderBlock(lines, next) || attributionLength(lines, next) > 0 || FROM_LABEL.test(lines[next]) || DATE_LABEL.test(lines[next]));
  }
  const ruled = ruledWords(t);
  if (SEPARATOR.test(t) || (ruled !== null && MESSAGE_WORD.test(ruled))) return true;
  return FOOTER_START.test(t) || isHeaderBlock(lines, i) || attributionLength(lines, i) > 0 || textBeforeInlineAttribution(t) !== null;
}

/**
 * Lines with the paragraphs of our letter taken out (re-quoted or not), and whether there were
 * any: our letter forwarded back, or pasted under a signature, is never kept.
 */
function withoutOurLetter(lines: string[], letter: LetterIndex | null): { lines: string[]; letterFound: boolean } {
  if (!letter) return { lines, letterFound: false };
  const blocks: string[][] = [];
  let cur: string[] | null = null;
  for (const l of lines) {
    if (!l.trim()) cur = null;
    else if (cur) cur.push(l);
    else blocks.push((cur = [l]));
  }
  const bare = blocks.map((b) => b.map((l) => l.replace(/^(\s*>)+\s?/, '')));
  const ours = bare.map((b) => letter.matches(b));
  // Short paragraphs made only of our words ("Dear Sam,") go with a paragraph of it next to them.
  bare.forEach((b, k) => {
    if (!ours[k] && (ours[k - 1] || ours[k + 1]) && letter.covers(b)) ours[k] = true;
  });
  return { lines: blocks.filter((_, k) => !ours[k]).flatMap((b, k) => (k ? ['', ...b] : b)), letterFound: ours.some(Boolean) };
}

/**
 * The message the subscriber forwarded, from its separator line (`from`) to the end of what was
 * read: kept as it is (its own quotes too, as talon keeps them), without our footer or our
 * letter, and with the HTML conversion's markers gone. No lines when nothing is left of it but
 * the separator and header lines (e.g. our letter forwarded back with a note above it).
 */
function forwardedMessage(lines: string[], from: number, letter: LetterIndex | null): { lines: string[]; letterFound: boolean } {
  const kept: string[] = [];
  let inFooter = false;
  for (let i = from; i < lines.length; i++) {
    let l = lines[i];
    const t = l.trim();
    if (t === QUOTE_CUT || t === HR_MARK || !t) {
      inFooter = false;
      kept.push('');
      continue;
    }
    if (t.startsWith(QUOTE_MARK)) l = t.slice(QUOTE_MARK.length);
    const bare = l.trim().replace(/^(>\s?)+/, '');
    // Our footer: its first line's paragraph and any of its lines or links.
    if (FOOTER_START.test(bare)) inFooter = true;
    if (inFooter || isFooterRemnant(bare)) continue;
    kept.push(l);
  }
  const rest = withoutOurLetter(kept, letter);
  const content = rest.lines.some((l) => {
    const t = l.trim().replace(/^(>\s?)+/, '');
    return /[\p{L}\p{N}]/u.test(t) && !(t.length <= MAX_RULE_LINE && (isHeaderLine(t) || SEPARATOR.test(t) || FORWARD_SEPARATOR.test(t)));
  });
  return content ? rest : { lines: [], letterFound: rest.letterFound };
}

function hasUnexplainedText(rest: string[], letter: LetterIndex | null, history: Line[]): boolean {
  const unexplained = (t: string) =>
    /[\p{L}\p{N}]/u.test(t.replace(/[\uE000-\uE002]/g, '')) &&
    !isQuoted(t) && !t.startsWith(QUOTE_MARK) && t.length <= MAX_RULE_LINE &&
    !FROM_LABEL.test(t) && !HEADER_LABEL.test(t) && !DATE_LABEL.test(t) && !SEPARATOR.test(t) && ruledWords(t) === null && !isAttribution(t) && !isFooterRemnant(t) && !FOOTER_START.test(t);
  const blocks = toBlocks([...history, ...rest.map((l): Line => ({ text: l.trim(), kind: isQuoted(l.trim()) ? 'quoted' : 'text' }))]);
  return blocks.some((b) => b.kind === 'text' && !(letter && letter.matches(b.lines)) && b.lines.some(unexplained));
}

interface Block {
  kind: Line['kind'];
  lines: string[];
}

/** Paragraphs: runs of non-blank lines of one kind. */
function toBlocks(lines: Line[]): Block[] {
  const blocks: Block[] = [];
  let cur: Block | null = null;
  for (const l of lines) {
    if (!l.text.trim()) {
      cur = null;
      continue;
    }
    if (!cur || cur.kind !== l.kind) {
      cur = { kind: l.kind, lines: [] };
      blocks.push(cur);
    }
    cur.lines.push(l.text);
  }
  return blocks;
}

/** Trailing signatures: a "Sent from …" line, a sign-off with a few short lines, a list footer. */
function dropSignature(lines: string[]): void {
  const content = () => {
    let k = lines.length - 1;
    while (k >= 0 && !lines[k].trim()) k--;
    return k;
  };
  let last = content();
  const sentFrom = last > 0 ? SENT_FROM_TAIL.exec(lines[last].trim()) : null;
  if (sentFrom && NAMES_PRODUCT.test(sentFrom[3])) {
    lines.length = last;
    last = content();
  }
  // A mailing-list footer: a rule of underscores and a few lines with a link or an address.
  for (let k = Math.max(0, last - 8); k <= last; k++) {
    if (/^_{2,}$/.test(lines[k].trim()) && k > 0) {
      const tail = lines.slice(k + 1, last + 1).join('\n');
      if (/https?:\/\/|@|mailing list/i.test(tail)) {
        lines.length = k;
        last = content();
      }
      break;
    }
  }
  // "-Abhishek Kona": a dash and a name (one to three capitalised words, no space after the dash,
  // so not a list item "- Journaling") alone as the last line, apart from the text above it, and
  // not closing a list, is the writer signing.
  const above = last > 1 ? lines.slice(0, last - 1).filter((l) => l.trim()) : [];
  if (above.length && !lines[last - 1].trim() && DASH_NAME.test(lines[last].trim()) && !/^[-–—~*•]/.test(above[above.length - 1].trim())) {
    lines.length = last;
    last = content();
  }
  // A sign-off: at most 4 short lines below it, none of them a sentence.
  for (let k = Math.max(1, last - 4); k <= last; k++) {
    if (SIGN_OFF.test(lines[k].trim())) {
      const below = lines.slice(k + 1, last + 1).filter((l) => l.trim());
      if (below.length >= 1 && below.every((l) => l.trim().length <= 40 && !/[\p{L}\p{N}][.!?]$/u.test(l.trim()))) lines.length = k;
      break;
    }
  }
}

/** One line with whitespace runs collapsed, at most `max` characters of it (a 2 MB line costs no more). */
function collapseLine(line: string, max: number): string {
  let out = '';
  let space = false;
  for (let i = 0; i < line.length && out.length < max; i++) {
    const c = line[i];
    if (c === ' ' || c === '\t' || c === '\f' || c === '\v') space = out.length > 0;
    else if (c >= '\uE000' && c <= '\uE002') continue;
    else {
      if (space) out += ' ';
      space = false;
      out += c;
    }
  }
  return out;
}

function normalise(text: string, max = MAX_REPLY_CHARS): string {
  // Line by line, stopping once past the limit: the rest would be cut anyway.
  const out: string[] = [];
  let size = 0;
  let blank = 0;
  for (const raw of text.split('\n')) {
    if (size > max) break;
    const l = collapseLine(raw, max + 1);
    if (!l) {
      blank++;
      continue;
    }
    if (out.length) out.push(...(blank ? ['', l] : [l]));
    else out.push(l);
    blank = 0;
    size += l.length + 1;
  }
  const collapsed = out.join('\n');
  if (collapsed.length <= max) return collapsed;
  const head = collapsed.slice(0, max - 1);
  const space = head.search(/\s\S*$/);
  return `${(space > max - 200 ? head.slice(0, space) : head).trimEnd()}…`;
}

/**
 * What the subscriber wrote, and how sure we are: quoted history (Gmail, Outlook, Apple Mail,
 * Thunderbird, Yahoo, Zoho, … in many languages; plain and HTML-only), signatures and any remnant
 * of our footer removed, whitespace normalised, at most {@link MAX_REPLY_CHARS} characters.
 *
 * `letter` is the letter the reply answers, when it was matched: any paragraph of the reply that
 * is our letter's text (re-wrapped, re-quoted, converted from HTML, trimmed) is history wherever
 * it sits, and the subscriber's answers between its paragraphs are kept in order.
 */
export function analyseReply(m: Pick<ParsedMessage, 'text' | 'html'>, letter?: OurLetter | LetterIndex | null): ReplyExtraction {
  const useHtml = !!m.html && !m.text.trim();
  if (!useHtml) return analyseText(m.text, letter);
  // HTML costs more per character (sanitize-html builds a DOM): the same bound, on the markup.
  const markup = m.html as string;
  const r = analyseText(htmlToReplyText(markup.length > MAX_INPUT_CHARS ? markup.slice(0, MAX_INPUT_CHARS) : markup), letter, true);
  if (markup.length > MAX_INPUT_CHARS && !r.reasons.includes('input_truncated')) {
    r.reasons.push('input_truncated');
    r.uncertain = true;
  }
  return r;
}

/**
 * Only what the subscriber wrote (see {@link analyseReply}). Nothing downstream (rules, LLM,
 * notes) may read the raw body: our footer quoted back contains "Unsubscribe".
 */
export function extractReplyText(m: Pick<ParsedMessage, 'text' | 'html'>, letter?: OurLetter | LetterIndex | null): string {
  return analyseReply(m, letter).text;
}
