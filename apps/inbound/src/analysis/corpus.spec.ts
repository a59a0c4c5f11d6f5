/**
 * Runs every hand-written fixture in test/fixtures/replies through the whole pure pipeline —
 * MessageParser (worker) → classifyMessage → extractReplyText → ruleIntent, plus the matching
 * helpers — and checks it against manifest.json. Later integration tests assert the database
 * effect from the same manifest.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Temporal } from 'temporal-polyfill';
import {
  classifyMessage,
  extractReplyText,
  letterIdFromMessageIds,
  MessageParser,
  ruleIntent,
  topicCodeFromMessage,
  UNSUBSCRIBE_MIN_CONFIDENCE,
  type Classification,
  type ParsedMessage,
  type RuleIntent,
} from './index';

/**
 * `untrusted`: a reply claiming a subscription by the public tag and From only — kept for review,
 * no effect. `unmatched_report`: a DSN or complaint that does not identify one of our messages
 * and its recipient — recorded as unmatched, nothing suppressed (issue 11).
 */
type Effect = 'progress_done' | 'progress_note' | 'unsubscribe' | 'pause' | 'suppress' | 'suppress_and_disable' | 'none' | 'review' | 'untrusted' | 'unmatched_report';
/** How the message names what it is about: see matchOf. */
type Matched = 'letter' | 'reply_address' | 'unsubscribe_address' | 'topic' | 'none';

interface Entry {
  file: string;
  description: string;
  source_client: string;
  expected: {
    kind: Classification['kind'];
    intent: RuleIntent['intent'] | null;
    needs_llm?: boolean;
    extracted_contains: string[];
    extracted_excludes: string[];
    pause_days?: number;
    bounce_hard?: boolean;
    status?: string;
    recipients?: string[];
    attachments?: number;
    matched: Matched;
    effect: Effect;
  };
}

const DIR = join(__dirname, '../../../../test/fixtures/replies');
const manifest: Entry[] = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8'));
const context: { now: string; timezone: string; letter_uuid: string; substitutions: Record<string, string> } = JSON.parse(
  readFileSync(join(DIR, 'context.json'), 'utf8'),
);
const ctx = { now: new Date(context.now), timezone: context.timezone };
const today = Temporal.Instant.from(context.now).toZonedDateTimeISO(context.timezone).toPlainDate();
const SUBSCRIBER = context.substitutions['{{SUBSCRIBER}}'];
const REPLY_DOMAIN = context.substitutions['{{REPLY_DOMAIN}}'];
const TOPIC = context.substitutions['{{TOPIC_CODE}}'];
const REPLY_ADDRESS = context.substitutions['{{REPLY_ADDRESS}}'];
const BOUNCE_ADDRESS = context.substitutions['{{BOUNCE_ADDRESS}}'];
const UNSUBSCRIBE_ADDRESS = context.substitutions['{{UNSUBSCRIBE_ADDRESS}}'];

function substitute(s: string): string {
  let out = s;
  for (const [placeholder, value] of Object.entries(context.substitutions)) out = out.split(placeholder).join(value);
  return out;
}

/** Placeholders are ASCII and replaced in the raw bytes, so latin1 round-trips every byte. */
function load(file: string): Buffer {
  return Buffer.from(substitute(readFileSync(join(DIR, file)).toString('latin1')), 'latin1');
}

const squash = (s: string) => s.replace(/\s+/g, ' ').trim();

/**
 * The rules the DB layer applies (the signature checks of the addresses are the integration
 * spec's business; here a placeholder address stands for a valid one): the unsubscribe address
 * speaks for its subscription; otherwise only the subscriber's own mail is matched, to the letter
 * by its reply address or threading — and by the public tag only as a claim for review.
 */
function matchOf(m: ParsedMessage): Matched {
  if (m.to.includes(UNSUBSCRIBE_ADDRESS)) return 'unsubscribe_address';
  if (m.from?.address !== SUBSCRIBER) return 'none';
  if (m.to.includes(REPLY_ADDRESS)) return 'reply_address';
  if (letterIdFromMessageIds([m.inReplyTo, ...m.references], REPLY_DOMAIN) === context.letter_uuid) return 'letter';
  if (topicCodeFromMessage(m) === TOPIC) return 'topic';
  return 'none';
}

/** A report identifies our letter: sent to its bounce address, or the attached original is it. */
function reportIsOurs(m: ParsedMessage, c: Extract<Classification, { kind: 'bounce' | 'complaint' }>): boolean {
  if (m.to.includes(BOUNCE_ADDRESS)) return c.kind === 'complaint' ? !c.recipients.length || c.recipients.includes(SUBSCRIBER) : c.recipients.includes(SUBSCRIBER);
  if (c.kind === 'bounce') return false;
  const embedded = m.parts.filter((p) => /rfc822/.test(p.contentType) && p.text).map((p) => p.text as string);
  const ours = embedded.some((t) => new RegExp(`^x-mz-letter:\\s*${context.letter_uuid}`, 'im').test(t)) || letterIdFromMessageIds(embedded, REPLY_DOMAIN) === context.letter_uuid;
  return ours && c.recipients.includes(SUBSCRIBER);
}

function effectOf(c: Classification, intent: Pick<RuleIntent, 'intent' | 'confidence'> | null, matched: Matched, m: ParsedMessage): Effect {
  switch (c.kind) {
    case 'bounce':
      if (!reportIsOurs(m, c)) return 'unmatched_report';
      return c.hard ? 'suppress' : 'none';
    case 'complaint':
      return reportIsOurs(m, c) ? 'suppress_and_disable' : 'unmatched_report';
    case 'auto_reply':
      return 'none';
    case 'reply':
      if (matched === 'unsubscribe_address') return 'unsubscribe';
      if (matched === 'none' || !intent) return 'none';
      if (matched === 'topic') return 'untrusted';
      if (intent.intent === 'done') return 'progress_done';
      if (intent.intent === 'note') return 'progress_note';
      if (intent.intent === 'pause') return 'pause';
      return intent.confidence >= UNSUBSCRIBE_MIN_CONFIDENCE ? 'unsubscribe' : 'review';
  }
}

function expectText(text: string, e: Entry['expected'], where: string): void {
  for (const needle of e.extracted_contains) {
    expect({ where, text, contains: squash(text).includes(squash(substitute(needle))) }).toEqual({ where, text, contains: true });
  }
  for (const needle of [...e.extracted_excludes, 'Unsubscribe from', '{{UNSUB_LINK}}', 'You are receiving this because']) {
    const found = text.toLowerCase().includes(substitute(needle).toLowerCase());
    expect({ where, text, excludes: needle, found }).toEqual({ where, text, excludes: needle, found: false });
  }
}

describe('reply fixture corpus', () => {
  const parser = new MessageParser({ poolSize: 2 });
  const parsed = new Map<string, ParsedMessage>();

  beforeAll(async () => {
    const results = await Promise.all(manifest.map(async (e) => [e.file, await parser.parse(load(e.file))] as const));
    for (const [file, m] of results) parsed.set(file, m);
  });
  afterAll(() => parser.close());

  it('lists every .eml exactly once and holds at least 40 of them', () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith('.eml')).sort();
    expect(manifest.map((e) => e.file).sort()).toEqual(files);
    expect(new Set(manifest.map((e) => e.file)).size).toBe(manifest.length);
    expect(files.length).toBeGreaterThanOrEqual(40);
  });

  it('covers the clients, kinds and cases the inbound path must handle', () => {
    const clients = manifest.map((e) => e.source_client).join('\n');
    for (const client of ['Gmail', 'Outlook for Windows', 'Outlook on the web', 'Apple Mail', 'Thunderbird']) expect(clients).toContain(client);
    const count = (p: (e: Entry['expected']) => boolean) => manifest.filter((e) => p(e.expected)).length;
    expect(count((e) => e.kind === 'auto_reply')).toBeGreaterThanOrEqual(5);
    expect(count((e) => e.kind === 'bounce' && e.bounce_hard === true)).toBeGreaterThanOrEqual(1);
    expect(count((e) => e.kind === 'bounce' && e.bounce_hard === false)).toBeGreaterThanOrEqual(1);
    expect(count((e) => e.kind === 'complaint')).toBeGreaterThanOrEqual(1);
    for (const intent of ['done', 'note', 'pause', 'unsubscribe'] as const) expect(count((e) => e.intent === intent)).toBeGreaterThanOrEqual(3);
    expect(count((e) => e.effect === 'review')).toBeGreaterThanOrEqual(1);
    expect(count((e) => e.needs_llm === true)).toBeGreaterThanOrEqual(1);
    expect(count((e) => e.kind === 'reply' && e.matched === 'none')).toBeGreaterThanOrEqual(2);
  });

  it.each(manifest)('$file', (entry) => {
    const e = entry.expected;
    const m = parsed.get(entry.file);
    if (!m) throw new Error(`${entry.file} did not parse`);

    const c = classifyMessage(m);
    expect(c.kind).toBe(e.kind);
    if (c.kind === 'bounce') {
      expect(c.hard).toBe(e.bounce_hard);
      if (e.status) expect(c.status).toBe(e.status);
    }
    if ((c.kind === 'bounce' || c.kind === 'complaint') && e.recipients) expect(c.recipients).toEqual(e.recipients.map(substitute));
    if (e.attachments !== undefined) expect(m.attachments).toHaveLength(e.attachments);

    const text = extractReplyText(m);
    expectText(text, e, 'text');
    // Where the message also has HTML, the HTML alone must give the same answer.
    const htmlText = m.html && m.text.trim() ? extractReplyText({ ...m, text: '' }) : null;
    if (htmlText !== null) expectText(htmlText, e, 'html');

    const matched = matchOf(m);
    expect(matched).toBe(e.matched);

    if (c.kind !== 'reply') {
      expect(e.intent).toBeNull();
      expect(effectOf(c, null, matched, m)).toBe(e.effect);
      return;
    }
    const r = ruleIntent(text, ctx);
    if (htmlText !== null) expect(ruleIntent(htmlText, ctx)?.intent ?? null).toBe(r?.intent ?? null);
    if (e.needs_llm) {
      expect(r).toBeNull();
      // What the model should conclude must still map to the stated effect.
      expect(e.intent).not.toBeNull();
      expect(effectOf(c, { intent: e.intent as RuleIntent['intent'], confidence: 1 }, matched, m)).toBe(e.effect);
      return;
    }
    if (e.intent === null) {
      expect(r).toBeNull();
    } else {
      expect(r?.intent).toBe(e.intent);
      if (e.pause_days !== undefined) {
        expect(r?.pauseUntil).toBe(today.add({ days: e.pause_days }).toString());
      }
    }
    expect(effectOf(c, r, matched, m)).toBe(e.effect);
  });
});
