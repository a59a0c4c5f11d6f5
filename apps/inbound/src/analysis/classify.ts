import type { ParsedMessage } from './parsed-message';

export type Classification =
  | { kind: 'bounce'; hard: boolean; recipients: string[]; status?: string }
  | { kind: 'complaint'; recipients: string[] }
  | { kind: 'auto_reply'; reason: string }
  | { kind: 'reply' };

const EMAIL = /[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+/g;

// Out-of-office subjects: whole phrases may be followed by anything ("Automatic reply: Re: …").
const OOO_PHRASES = new RegExp(
  '^(?:' +
    [
      // en
      'automatic reply', 'auto[- ]?reply', 'auto[- ]?response', 'autoresponder', 'automated response', 'out of (?:the )?office',
      'away from (?:the |my )?office', 'vacation (?:reply|response|notice|message|auto-?reply)', 'i am (?:currently )?out of (?:the )?office',
      // de
      'abwesenheitsnotiz', 'automatische antwort', 'autom\\. antwort', 'nicht im büro', 'außer haus', 'urlaubsnotiz', 'abwesenheitsnachricht',
      // fr
      'réponse automatique', 'absence du bureau', 'absent du bureau', "message d'absence", 'réponse d\'absence',
      // es
      'respuesta automática', 'fuera de la oficina', 'ausente de la oficina', 'respuesta de ausencia', 'mensaje de ausencia',
      // it
      'risposta automatica', 'fuori ufficio', "assente dall'ufficio", 'fuori sede',
      // nl
      'automatisch antwoord', 'niet op kantoor', 'niet aanwezig', 'afwezigheidsbericht',
      // pt
      'resposta automática', 'ausente do escritório', 'fora do escritório', 'mensagem de ausência',
      // sv, da, no
      'automatiskt svar', 'frånvaromeddelande', 'ej på kontoret', 'automatisk svar', 'autosvar', 'ikke på kontoret', 'fraværsmelding',
      // pl, cs, ru
      'odpowiedź automatyczna', 'automatyczna odpowiedź', 'poza biurem', 'automatická odpověď', 'mimo kancelář', 'автоматический ответ', 'автоответ', 'вне офиса',
      // ja, zh, ko
      '自動応答', '自動返信', '自動送信', '自动回复', '自動回覆', '자동 응답', '부재중',
    ].join('|') +
    ')',
  'i',
);
// Single words that are out-of-office only as a subject prefix ("Afwezig: Re: …").
const OOO_PREFIX_WORDS = /^(?:ooo|out of office|vacation|holiday|abwesend|urlaub|absence|absent|ausente|ausencia|ausência|assente|afwezig|frånvarande|fraværende|fraværende|nieobecność|nieobecny|不在|不在通知|外出中|休暇中)\s*[:：]/i;

const BOUNCE_SUBJECT =
  /^(?:undeliverable|undelivered mail|undelivered mail returned to sender|delivery status notification \((?:failure|delay)\)|mail delivery failed|mail delivery failure|delivery failure|failure notice|returned mail|delivery has failed|message not delivered|unzustellbar|nicht zustellbar|non remis|non distribuable|échec de la remise|no se puede entregar|mensaje no entregado|non recapitabile|onbestelbaar|não entregue)\b/i;
const DAEMON_LOCAL = /^(?:mailer-daemon|mailer_daemon|mailerdaemon|mail-daemon|postmaster|bounce|bounces)$/i;

const DELIVERED_ACTIONS = new Set(['delivered', 'relayed', 'expanded']);

interface Field {
  key: string;
  value: string;
}

/** RFC 3464/5965 field groups: "Key: value" lines (folded lines continue), groups split by blank lines. */
function fieldGroups(text: string): Field[][] {
  const groups: Field[][] = [];
  let current: Field[] = [];
  for (const line of text.replace(/\r\n?/g, '\n').split('\n')) {
    if (!line.trim()) {
      if (current.length) groups.push(current);
      current = [];
    } else if (/^[ \t]/.test(line) && current.length) {
      current[current.length - 1].value += ` ${line.trim()}`;
    } else {
      const colon = line.indexOf(':');
      if (colon > 0) current.push({ key: line.slice(0, colon).trim().toLowerCase(), value: line.slice(colon + 1).trim() });
    }
  }
  if (current.length) groups.push(current);
  return groups;
}

function field(group: Field[], key: string): string | undefined {
  return group.find((f) => f.key === key)?.value;
}

function emailsIn(value: string | undefined): string[] {
  return (value ?? '').match(EMAIL)?.map((a) => a.toLowerCase()) ?? [];
}

function unique(list: string[]): string[] {
  return [...new Set(list)];
}

function reportType(m: ParsedMessage): string | null {
  const ct = (m.headers['content-type'] ?? '').toLowerCase();
  if (!/^\s*multipart\/report\b/.test(ct)) return null;
  return /report-type\s*=\s*"?([a-z0-9/-]+)"?/.exec(ct)?.[1] ?? '';
}

function partText(m: ParsedMessage, ...types: string[]): string | null {
  const part = m.parts.find((p) => types.includes(p.contentType) && typeof p.text === 'string');
  return part?.text ?? null;
}

const STATUS = /\b([245])\.\d{1,3}\.\d{1,3}\b/;

/** RFC 3464 delivery status notification. */
function classifyDsn(m: ParsedMessage): Classification {
  const text = partText(m, 'message/delivery-status', 'message/global-delivery-status') ?? '';
  const recipientsGroups = fieldGroups(text).filter((g) => field(g, 'final-recipient') || field(g, 'original-recipient') || field(g, 'action'));
  const failures: { address: string | undefined; hard: boolean; status?: string }[] = [];
  let delivered = 0;
  for (const g of recipientsGroups) {
    const action = (field(g, 'action') ?? '').toLowerCase();
    const status = STATUS.exec(field(g, 'status') ?? '')?.[0] ?? STATUS.exec(field(g, 'diagnostic-code') ?? '')?.[0];
    const address = emailsIn(field(g, 'final-recipient') ?? field(g, 'original-recipient'))[0];
    if (DELIVERED_ACTIONS.has(action)) {
      delivered++;
      continue;
    }
    // Hard only when the server says so: a permanent (5.x.x) status on a failed delivery.
    // A failure without a status, or one that gave up on a 4.x.x, may work another day.
    const hard = (action === 'failed' || action === '') && !!status && status.startsWith('5');
    failures.push({ address, hard, status });
  }
  if (!failures.length && delivered > 0) return { kind: 'auto_reply', reason: 'delivery status notification: delivered' };
  const hard = failures.filter((f) => f.hard);
  const chosen = hard.length ? hard : failures;
  let recipients = unique(chosen.map((f) => f.address).filter((a): a is string => !!a));
  if (!recipients.length) recipients = unique(emailsIn(m.headers['x-failed-recipients']));
  const status = chosen.find((f) => f.status)?.status;
  return status ? { kind: 'bounce', hard: hard.length > 0, recipients, status } : { kind: 'bounce', hard: hard.length > 0, recipients };
}

/** RFC 5965 Abuse Reporting Format (feedback loop complaint). */
function classifyArf(m: ParsedMessage): Classification {
  const fields = fieldGroups(partText(m, 'message/feedback-report') ?? '').flat();
  const type = (fields.find((f) => f.key === 'feedback-type')?.value ?? '').toLowerCase();
  if (type === 'not-spam') return { kind: 'auto_reply', reason: 'feedback report: not-spam' };
  let recipients = unique(fields.filter((f) => f.key === 'original-rcpt-to' || f.key === 'removal-recipient').flatMap((f) => emailsIn(f.value)));
  if (!recipients.length) {
    // No Original-Rcpt-To (it is optional): the complained-about message's own To.
    const embedded = partText(m, 'text/rfc822-headers', 'message/rfc822', 'message/global-headers') ?? '';
    recipients = unique(fieldGroups(embedded).flat().filter((f) => f.key === 'to').flatMap((f) => emailsIn(f.value)));
  }
  return { kind: 'complaint', recipients };
}

function isAutoReplyHeader(value: string | undefined): boolean {
  return value !== undefined && !/^(no|false|0)$/i.test(value.trim());
}

function autoReplyReason(m: ParsedMessage): string | null {
  const h = m.headers;
  // RFC 3834: anything but "no" means a machine sent it.
  const autoSubmitted = h['auto-submitted']?.trim().toLowerCase();
  if (autoSubmitted && !autoSubmitted.startsWith('no')) return `auto-submitted: ${autoSubmitted.split(';')[0]}`;
  for (const name of ['x-autoreply', 'x-autorespond', 'x-autoresponder', 'x-auto-response-suppress']) {
    if (isAutoReplyHeader(h[name])) return `${name} header`;
  }
  if ((h['x-autogenerated'] ?? '').trim().toLowerCase() === 'reply') return 'x-autogenerated: reply';
  for (const name of ['precedence', 'x-precedence']) {
    const p = h[name]?.trim().toLowerCase();
    if (p && /^(bulk|junk|auto[_-]reply)\b/.test(p)) return `${name}: ${p}`;
  }
  const subject = m.subject.trim();
  if (OOO_PHRASES.test(subject) || OOO_PREFIX_WORDS.test(subject)) return 'out-of-office subject';
  return null;
}

function looksLikeBounce(m: ParsedMessage): boolean {
  const local = m.from?.address.split('@')[0] ?? '';
  return DAEMON_LOCAL.test(local) || /^mail delivery (sub)?system$/i.test(m.from?.name.trim() ?? '') || 'x-failed-recipients' in m.headers || BOUNCE_SUBJECT.test(m.subject.trim());
}

/**
 * What kind of message this is. Reports first (a DSN is also auto-submitted), then other
 * bounces, then auto-replies; everything else is a human reply to be matched and understood.
 */
export function classifyMessage(m: ParsedMessage): Classification {
  const rt = reportType(m);
  const hasPart = (t: string) => m.parts.some((p) => p.contentType === t);
  if (rt === 'feedback-report' || (rt !== 'delivery-status' && hasPart('message/feedback-report'))) return classifyArf(m);
  if (rt === 'delivery-status' || hasPart('message/delivery-status') || hasPart('message/global-delivery-status')) return classifyDsn(m);
  if (rt === 'disposition-notification' || hasPart('message/disposition-notification')) return { kind: 'auto_reply', reason: 'read receipt' };
  if (looksLikeBounce(m)) {
    // No machine-readable report: we cannot tell permanent from temporary, so never suppress.
    const recipients = unique([...emailsIn(m.headers['x-failed-recipients']), ...(m.text.match(/^\s*final-recipient\s*:.*$/gim) ?? []).flatMap((l) => emailsIn(l))]);
    return { kind: 'bounce', hard: false, recipients };
  }
  const reason = autoReplyReason(m);
  if (reason) return { kind: 'auto_reply', reason };
  return { kind: 'reply' };
}
