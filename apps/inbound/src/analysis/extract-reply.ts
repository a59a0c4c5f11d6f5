import { HR_MARK, QUOTE_CUT, htmlToReplyText } from './html-text';
import type { ParsedMessage } from './parsed-message';

/** Longest reply text handed to rules, the LLM and the notes store. */
export const MAX_REPLY_CHARS = 4000;

// "From:" as the first line of a quoted header block, in the languages our subscribers' mail
// clients are set to (Outlook translates the labels; Gmail's forward header too).
const FROM_LABEL = /^\s*\*{0,2}(from|von|de|van|da|från|fra|od|mittente|remetente|差出人|送信者|发件人|寄件者)\s*\*{0,2}\s*[:：]/i;
const HEADER_LABEL =
  /^\s*\*{0,2}(sent|date|to|subject|cc|gesendet|datum|an|betreff|envoyé|à|objet|enviado|enviada|fecha|para|asunto|inviato|data|a|oggetto|verzonden|aan|onderwerp|skickat|till|ämne|sendt|til|emne|wysłano|wysłane|do|temat|送信日時|日付|宛先|件名|发送时间|收件人|主题)\s*\*{0,2}\s*[:：]/i;

const SEPARATOR =
  /^[-–—_=*\s]*(original message|this is a copy of the message.*|ursprüngliche nachricht|originalnachricht|message d'origine|mensaje original|messaggio originale|oorspronkelijk bericht|mensagem original|originalmeddelande|opprinnelig melding|oprindelig meddelelse|forwarded message|weitergeleitete nachricht|message transféré|mensaje reenviado|messaggio inoltrato|doorgestuurd bericht|mensagem encaminhada|vidarebefordrat meddelande|begin forwarded message|anfang der weitergeleiteten nachricht|début du message réexpédié|元のメッセージ|転送されたメッセージ)\s*:?[-–—_=*\s]*$/i;
const UNDERSCORES = /^_{10,}$/;

// Attribution lines ("On … wrote:") per language. Each must end the (possibly wrapped) line.
const ATTRIBUTION: RegExp[] = [
  /^on\b.{3,300}\bwrote\s*:?$/i,
  /^am\b.{3,300}\bschrieb\b.{0,160}:$/i,
  /^le\b.{3,300}\ba écrit\s*:?$/i,
  /^el\b.{3,300}\bescribió\s*:?$/i,
  /^il\b.{3,300}\bha scritto\s*:?$/i,
  /^op\b.{3,300}\bschreef\b.{0,160}:$/i,
  /^(em|no dia)\b.{3,300}\bescreveu\s*:?$/i,
  /^den\b.{3,300}\bskrev\b.{0,160}:$/i,
  /^.{0,160}<[^<>\s]+@[^<>\s]+>\)?\s+(wrote|schrieb|a écrit|escribió|ha scritto|schreef|escreveu|skrev)\b.{0,160}:$/i,
  // Gmail (ja): "2026年11月26日(木) 8:00 Mentor Zero <mentor@…>:"; Apple Mail (ja): "…のメール:"
  /^\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日.{0,250}[:：]$/,
  /^.{0,250}(のメッセージ|のメール|が書きました|は書きました)\s*[:：]$/,
];

const MOBILE_SIGNATURE =
  /^(sent from my\b|sent from (mail|outlook|yahoo|samsung|proton|my iphone|my ipad)\b|get outlook for (ios|android)|von meinem .{1,40} gesendet|gesendet von meinem\b|envoyé de mon\b|envoyé depuis\b|enviado desde mi\b|enviado do meu\b|inviato da\b|verzonden (vanaf|met) mijn\b|skickat från min\b|sendt fra min\b|.{1,20}から送信)/i;

// Our own footer (see mailer templates), in case it survives unquoted, e.g. under an Outlook
// header block we did not recognise or in a forward. Its "Unsubscribe" must never be read.
const FOOTER_START = /you are receiving this because you subscribed to\b/i;
const FOOTER_LINES = [/reply to this email to tell your mentor how it went/i, /^your settings\s*:?/i, /^\s*unsubscribe from\b/i];
const OUR_LINK = /https?:\/\/\S+?\/(u|login)\/[A-Za-z0-9._~%-]{6,}/i;

function isAttributionStart(text: string): boolean {
  return ATTRIBUTION.some((re) => re.test(text));
}

/** Number of lines (1–3) an attribution starting at `i` spans, or 0. */
function attributionLength(lines: string[], i: number): number {
  let joined = '';
  for (let k = 0; k < 3 && i + k < lines.length; k++) {
    const t = lines[i + k].trim();
    if (!t || t.startsWith('>') || t === QUOTE_CUT) return 0;
    if (k > 0) {
      // Only a wrapped header continues: the line before carries the date/time and does not
      // end a sentence, and this line is not an attribution of its own ("On holiday until
      // Friday." directly above "On Thu, … wrote:" is the subscriber's text).
      if (/[.!?。！？]$/.test(joined) || !/\d/.test(joined) || isAttributionStart(t)) return 0;
    }
    joined = k === 0 ? t : `${joined} ${t}`;
    if (joined.length > 400) return 0;
    if (isAttributionStart(joined)) return k + 1;
  }
  return 0;
}

function nextNonBlank(lines: string[], from: number): number {
  for (let j = from; j < lines.length; j++) if (lines[j].trim() && lines[j].trim() !== HR_MARK) return j;
  return -1;
}

/** An Outlook-style header block: "From:" followed closely by at least two more labels. */
function isHeaderBlock(lines: string[], i: number): boolean {
  if (!FROM_LABEL.test(lines[i])) return false;
  let labels = 0;
  for (let j = i + 1; j < Math.min(lines.length, i + 8); j++) if (HEADER_LABEL.test(lines[j])) labels++;
  return labels >= 2;
}

function isFooterRemnant(t: string): boolean {
  if (FOOTER_LINES.some((re) => re.test(t))) return true;
  const link = OUR_LINK.exec(t);
  // A line that is (almost) only one of our links: "Your settings: <…>", "<…/u/…>".
  return !!link && t.replace(link[0], '').replace(/[<>()[\]\s:]/g, '').length < 40;
}

function dropTrailingDecoration(kept: string[]): void {
  while (kept.length && /^[\s—–\-_]*$/.test(kept[kept.length - 1])) kept.pop();
}

/** Strips quoted history, signatures and our footer from plain text; see {@link extractReplyText}. */
export function extractFromText(input: string): string {
  const lines = input
    .replace(/\r\n?/g, '\n')
    .replace(/[\u200b-\u200d\u2060\ufeff]/g, '')
    .replace(/\u00a0/g, ' ')
    .split('\n');
  const kept: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const t = line.trim();
    if (t === QUOTE_CUT) break;
    if (t === HR_MARK) {
      const next = nextNonBlank(lines, i + 1);
      if (next >= 0 && FROM_LABEL.test(lines[next])) break;
      kept.push('');
      continue;
    }
    if (SEPARATOR.test(t)) break;
    if (UNDERSCORES.test(t)) {
      const next = nextNonBlank(lines, i + 1);
      if (next >= 0 && FROM_LABEL.test(lines[next])) break;
    }
    if (isHeaderBlock(lines, i)) break;
    const span = attributionLength(lines, i);
    if (span) {
      const next = nextNonBlank(lines, i + span);
      // Quoted with '>' below: drop just the attribution and keep any interleaved answers.
      // Anything else (the original pasted unquoted) is history from here on.
      if (next < 0 || lines[next].trim().startsWith('>')) {
        i += span - 1;
        continue;
      }
      break;
    }
    if (t.startsWith('>')) continue;
    if (t === '--') break; // RFC 3676 signature delimiter "-- " (often trimmed to "--" by clients)
    if (t.length <= 80 && MOBILE_SIGNATURE.test(t)) break;
    if (FOOTER_START.test(t)) {
      dropTrailingDecoration(kept);
      break;
    }
    if (isFooterRemnant(t)) {
      dropTrailingDecoration(kept);
      continue;
    }
    kept.push(line);
  }
  return normalise(kept.join('\n'));
}

function normalise(text: string): string {
  const collapsed = text
    .replace(/[\uE000\uE001]/g, '')
    .split('\n')
    .map((l) => l.replace(/[ \t\f\v]+/g, ' ').trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  if (collapsed.length <= MAX_REPLY_CHARS) return collapsed;
  const head = collapsed.slice(0, MAX_REPLY_CHARS - 1);
  const space = head.search(/\s\S*$/);
  return `${(space > MAX_REPLY_CHARS - 200 ? head.slice(0, space) : head).trimEnd()}…`;
}

/**
 * Only what the subscriber wrote: quoted history (Gmail, Outlook, Apple Mail, Thunderbird, in
 * several languages; plain and HTML-only), signatures and any remnant of our footer removed,
 * whitespace normalised, at most {@link MAX_REPLY_CHARS} characters. Nothing downstream (rules,
 * LLM, notes) may read the raw body: our footer quoted back contains "Unsubscribe".
 */
export function extractReplyText(m: ParsedMessage): string {
  const useHtml = !!m.html && !m.text.trim();
  return extractFromText(useHtml ? htmlToReplyText(m.html as string) : m.text);
}
