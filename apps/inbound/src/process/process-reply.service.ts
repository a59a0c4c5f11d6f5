import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { Temporal } from 'temporal-polyfill';
import type { EntityManager } from 'typeorm';
import type { AppConfig, InboundKind, ReplyIntent, ReplyTextMarks } from '@mz/contracts';
import { AppConfigRepository, InboundMessageRepository, type InboundResult, logEvent, ProgressRepository, SuppressionRepository } from '@mz/db';
import { LetterCommands, mailAddressSecret, verifyUnsubscribeToken } from '@mz/domain';
import { APP_CONFIG, Clock, LOGGER } from '@mz/platform';
import {
  analyseReply, type Classification, classifyMessage, letterIdFromMessageIds, MessageParseError, type ParsedMessage, type ReplyExtraction, ruleIntent,
  topicCodeFromMessage, warmRules,
} from '../analysis';
import { INBOUND_OPTIONS, type InboundOptions } from '../inbound-options';
import { InboundMetrics } from '../inbound.metrics';
import { InboundMessageParser } from './inbound-message.parser';
import { type AuthVerdict, contradictsFrom, MailAuthenticator } from './mail-authenticator';
import { embeddedLetterIds, messageRecipients, onlySigned, type Recipients } from './recipients';
import { decideReply, type Judgement, type ReplyDecision } from './reply-decision';
import { ReplyLlmClient } from './reply-llm.client';
import { type MatchedSubscription, ReplyRepository } from './reply.repository';

export type ProcessOutcome =
  | { outcome: 'missing' | 'already_processed' }
  | { outcome: 'failed'; error: string }
  | { outcome: 'processed'; kind: InboundKind; intent: ReplyIntent | null; needsReview: boolean };

/**
 * Who a message speaks for. `ok` only when it reached a valid signed reply address (or threads to
 * one of our Message-IDs), its From is that letter's recipient, and authentication does not
 * contradict the From. Otherwise `candidate` is the subscription it claims (for an admin's
 * review), or null when it claims nothing of ours.
 */
type Match =
  | ({ ok: true } & MatchedSubscription)
  | { ok: false; reason: UntrustedReason; candidate: MatchedSubscription | null };
type UntrustedReason =
  | 'no_reference' | 'no_sender' | 'sender_not_recipient' | 'no_subscription_for_sender' | 'ambiguous_reply_address'
  /** Only the public [mz:code] tag (or X-MZ-Topic) and the From header: anyone can write both. */
  | 'topic_tag_only'
  /** DMARC fails for the From domain and its policy is quarantine or reject. */
  | 'dmarc_fail'
  /** Not authenticated at all: a header section larger than any real mail's (AuthVerdict.unverifiable). */
  | 'unverifiable';
type Header = Pick<InboundResult, 'fromAddress' | 'subject'>;
/** The one message (and so one address) a DSN, a complaint or a provider's event is about. */
export interface ReportTarget {
  email: string;
  userId: string;
  /** Null for a sign-in mail. */
  letter: MatchedSubscription | null;
  by: 'bounce_address' | 'embedded_original' | 'provider_event';
}
/** What a verified report came as, for the suppression's detail and the events' metadata. */
export interface ReportOrigin {
  detail: string;
  metadata: Record<string, unknown>;
}
/** Everything the decision rules read besides the parsed message. */
interface Context {
  id: string;
  header: Header;
  recipients: Recipients;
  auth: AuthVerdict;
}

const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

function zoned(now: Date, timezone: string): Temporal.ZonedDateTime {
  const instant = Temporal.Instant.fromEpochMilliseconds(now.getTime());
  try {
    return instant.toZonedDateTimeISO(timezone);
  } catch {
    return instant.toZonedDateTimeISO('UTC'); // a broken zone must not lose the reply
  }
}

/** Local midnight starting `date` in the subscriber's zone: the instant letters may resume. */
export function pauseEndsAt(date: string, timezone: string): Date {
  const day = Temporal.PlainDate.from(date);
  let zdt: Temporal.ZonedDateTime;
  try {
    zdt = day.toZonedDateTime({ timeZone: timezone });
  } catch {
    zdt = day.toZonedDateTime({ timeZone: 'UTC' });
  }
  return new Date(zdt.epochMilliseconds);
}

/**
 * What the analysis row says about the extraction (no text: replyText is the message, `fullText`),
 * with where its parts start (ReplyTextMarks): the own words, a signature, a forwarded message.
 */
function extractionNote(e: ReplyExtraction): Record<string, unknown> {
  const marks: ReplyTextMarks = { ownEnd: e.ownEnd, forwardedAt: e.forwardedAt };
  return { uncertain: e.uncertain, reasons: e.reasons, letterFound: e.letterFound, ...marks };
}

/**
 * `replies.process`: one stored message from raw bytes to its effect (docs/architecture.md §4). Parse (in a
 * worker, with limits; failures recorded), authenticate (SPF/DKIM/DMARC/ARC), classify, decide
 * whom it speaks for (docs/architecture.md §8: the signed address it was sent to or our Message-ID it threads
 * to, a From that is that letter's recipient, no DMARC contradiction — else review or
 * unmatched), extract what they wrote, decide the intent (rules, then the LLM if configured), and
 * apply the effect together with the message's own row in one transaction that first re-checks
 * the row is unprocessed — so a re-delivered job changes nothing.
 */
@Injectable()
export class ProcessReplyService implements OnModuleInit {
  private readonly logger: Logger;
  private readonly clock: Clock;

  constructor(
    private readonly repo: ReplyRepository,
    private readonly messages: InboundMessageRepository,
    private readonly suppressions: SuppressionRepository,
    private readonly progress: ProgressRepository,
    private readonly appConfig: AppConfigRepository,
    private readonly parser: InboundMessageParser,
    private readonly llm: ReplyLlmClient,
    private readonly authenticator: MailAuthenticator,
    private readonly letters: LetterCommands,
    private readonly metrics: InboundMetrics,
    clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(INBOUND_OPTIONS) options: InboundOptions,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.logger = logger.child({ component: 'process-reply' });
    this.clock = options.clock ?? clock;
    this.addressSecret = mailAddressSecret(config);
  }

  private readonly addressSecret: string;

  /** Before the workers start: the rules' first run would otherwise stall the loop 30–60 ms. */
  onModuleInit(): void {
    warmRules();
  }

  async process(id: string): Promise<ProcessOutcome> {
    const end = this.metrics.processingSeconds.startTimer();
    try {
      return await this.run(id);
    } finally {
      end();
    }
  }

  /** Gives up on a message (e.g. after the job's last attempt): recorded, never retried. */
  async recordFailure(id: string, error: string): Promise<ProcessOutcome> {
    if (await this.messages.recordFailure(id, error)) this.metrics.processed.inc({ kind: 'error' });
    return { outcome: 'failed', error };
  }

  private async run(id: string): Promise<ProcessOutcome> {
    const row = await this.messages.load(id);
    if (!row) return { outcome: 'missing' };
    if (row.processed) return { outcome: 'already_processed' };
    if (row.rawTruncated) {
      this.metrics.parseFailures.inc();
      return this.recordFailure(id, `too_large: the message is ${row.rawSize} bytes, over the ${this.config.INBOUND_SMTP_MAX_BYTES}-byte limit; stored truncated, not parsed`);
    }
    let m: ParsedMessage;
    try {
      m = await this.parser.parse(row.raw);
    } catch (err) {
      if (!(err instanceof MessageParseError)) throw err; // e.g. the parser closing for shutdown: retry later
      this.metrics.parseFailures.inc();
      return this.recordFailure(id, `${err.code}: ${err.message}`);
    }
    const header: Header = { fromAddress: m.from?.address || null, subject: m.subject ? m.subject.slice(0, 998) : null };
    const auth = await this.authenticator.verify({ raw: row.raw, source: row.source, envelopeFrom: row.envelopeFrom, remoteAddress: row.remoteAddress, helo: row.helo });
    const ctx: Context = { id, header, auth, recipients: messageRecipients(row, m, this.config.REPLY_DOMAIN, this.addressSecret) };
    const c = classifyMessage(m);
    if (c.kind === 'bounce') return this.bounce(ctx, c);
    if (c.kind === 'complaint') return this.complaint(ctx, m, c);
    const unsubscribe = this.mailtoUnsubscribe(ctx, m);
    if (unsubscribe) return this.unsubscribeByAddress(ctx, unsubscribe);
    return c.kind === 'auto_reply' ? this.autoReply(ctx, m, c) : this.reply(ctx, m);
  }

  /** What authentication and the recipients said, for the console (no secrets: ids and verdicts). */
  private trust(ctx: Context, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      authentication: ctx.auth,
      recipients: { from: ctx.recipients.from, signed: ctx.recipients.signed.map((s) => ({ kind: s.kind, id: s.id })) },
      ...extra,
    };
  }

  /**
   * Decides who a reply speaks for (docs/architecture.md §8). The letter comes from the signed reply
   * address it was sent to (`r+…`), else from In-Reply-To/References naming one of our
   * Message-IDs (both known only to the letter's recipient); the From must be that letter's
   * recipient; and DMARC must not fail under a quarantine/reject policy for the From domain. The
   * public topic tag with a matching From is only a candidate for review: anyone can write both.
   */
  private async match(ctx: Context, m: ParsedMessage): Promise<Match> {
    const sender = m.from?.address?.toLowerCase();
    const replyAddresses = ctx.recipients.signed.filter((s) => s.kind === 'reply');
    if (replyAddresses.length > 1) return { ok: false, reason: 'ambiguous_reply_address', candidate: null };
    const letterId = replyAddresses[0]?.id ?? letterIdFromMessageIds([m.inReplyTo, m.references.join(' ')], this.config.REPLY_DOMAIN);
    const letter = letterId ? await this.repo.letterWithSubscriber(letterId) : null;
    if (letter) {
      const { email, ...rest } = letter;
      const candidate: MatchedSubscription = { by: replyAddresses.length ? 'reply_address' : 'letter', ...rest };
      if (!sender) return { ok: false, reason: 'no_sender', candidate: null };
      if (email.toLowerCase() !== sender) return { ok: false, reason: 'sender_not_recipient', candidate: null };
      if (ctx.auth.unverifiable) return { ok: false, reason: 'unverifiable', candidate };
      if (contradictsFrom(ctx.auth)) return { ok: false, reason: 'dmarc_fail', candidate };
      return { ok: true, ...candidate };
    }
    if (!sender) return { ok: false, reason: 'no_sender', candidate: null };
    const code = topicCodeFromMessage(m);
    if (code) {
      const sub = await this.repo.subscriptionOf(sender, code);
      if (sub) return { ok: false, reason: 'topic_tag_only', candidate: { by: 'topic', letterId: null, ...sub } };
    }
    return { ok: false, reason: code ? 'no_subscription_for_sender' : 'no_reference', candidate: null };
  }

  /**
   * The subscription a mailto unsubscribe names: its signed `u+…` address, or (letters sent
   * before the signed addresses) `unsubscribe@REPLY_DOMAIN` with the signed unsubscribe token in
   * the subject. Either is a capability like the one-click link: no From check.
   */
  private mailtoUnsubscribe(ctx: Context, m: ParsedMessage): { subscriptionId: string; by: 'unsubscribe_address' | 'unsubscribe_token' } | null {
    const signed = onlySigned(ctx.recipients, 'unsubscribe');
    if (signed) return { subscriptionId: signed.id, by: 'unsubscribe_address' };
    if (!ctx.recipients.addresses.includes(`unsubscribe@${this.config.REPLY_DOMAIN}`)) return null;
    const token = /\b([0-9a-f-]{36}\.[A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])/.exec(m.subject)?.[1];
    const subscriptionId = token ? verifyUnsubscribeToken(token, this.config.SESSION_SECRET) : null;
    return subscriptionId ? { subscriptionId, by: 'unsubscribe_token' } : null;
  }

  private async unsubscribeByAddress(ctx: Context, u: { subscriptionId: string; by: 'unsubscribe_address' | 'unsubscribe_token' }): Promise<ProcessOutcome> {
    const sub = await this.repo.subscriptionById(u.subscriptionId);
    if (!sub) {
      return this.commit(ctx.id, {
        ...ctx.header, kind: 'unmatched', intent: null, replyText: null, note: null, confidence: null, needsReview: false,
        analysis: this.trust(ctx, { classification: 'unsubscribe_request', unmatched: 'unknown_subscription', matchedBy: u.by }),
        matchedUserId: null, matchedLetterId: null, matchedTopicId: null,
      });
    }
    const result: InboundResult = {
      ...ctx.header, kind: 'reply', intent: 'unsubscribe', replyText: null, note: null, confidence: 1, needsReview: false,
      analysis: this.trust(ctx, { classification: 'unsubscribe_request', matchedBy: u.by, effect: 'unsubscribe', source: 'mailto' }),
      matchedUserId: sub.userId, matchedLetterId: null, matchedTopicId: sub.topicId,
    };
    return this.commit(ctx.id, result, async (tx) => {
      const actor = `user:${sub.userId}`;
      let cancelled: string[] = [];
      if (await this.repo.disableSubscription(tx, sub.subscriptionId)) {
        cancelled = await this.letters.cancelPending(tx, sub.subscriptionId, 'unsubscribed', actor);
        await logEvent(tx, { type: 'UNSUBSCRIBE', actor, userId: sub.userId, subscriptionId: sub.subscriptionId, metadata: { source: 'mailto', inbound_message_id: ctx.id } });
      }
      await logEvent(tx, {
        type: 'REPLY_PROCESSED', actor, userId: sub.userId, subscriptionId: sub.subscriptionId,
        metadata: { inbound_message_id: ctx.id, kind: 'reply', intent: 'unsubscribe', effect: 'unsubscribe', source: 'mailto', needs_review: false },
      });
      return cancelled;
    });
  }

  private async reply(ctx: Context, m: ParsedMessage): Promise<ProcessOutcome> {
    const { id, header } = ctx;
    const now = this.clock.now();
    const match = await this.match(ctx, m);
    // With the letter it answers, the extractor recognises our text wherever the reply puts it.
    const extraction = analyseReply(m, match.ok && match.letterId ? await this.repo.letterBody(match.letterId) : null);
    // Only the subscriber's own words decide and are kept as the note: never a signature or a
    // message they forwarded (a forwarded newsletter's "unsubscribe" is not theirs). The message
    // stored and shown (replyText) is the full text, the forward marked in the analysis.
    const text = extraction.text;
    if (!match.ok) {
      // Read by the rules for the console's benefit only (no LLM for unverified senders); nothing changes.
      const rule = text ? ruleIntent(text, { now, timezone: match.candidate?.timezone ?? 'UTC' }) : null;
      const c = match.candidate;
      if (c) this.metrics.untrusted.inc({ reason: match.reason });
      // A claim on one of our subscriptions that we cannot verify: stored for an admin to read
      // (and, if they judge it genuine, act on); without a claim it is simply unmatched.
      return this.commit(id, {
        ...header, kind: c ? 'reply' : 'unmatched', intent: null, replyText: extraction.fullText || null, note: null, confidence: null, needsReview: !!c,
        analysis: this.trust(ctx, { classification: 'reply', rule, effect: 'none', extraction: extractionNote(extraction), ...(c ? { reviewReason: `untrusted:${match.reason}`, matchedBy: c.by } : { unmatched: match.reason }) }),
        matchedUserId: c?.userId ?? null, matchedLetterId: c?.letterId ?? null, matchedTopicId: c?.topicId ?? null,
      });
    }

    const local = zoned(now, match.timezone);
    const today = local.toPlainDate().toString();
    const rule = text ? ruleIntent(text, { now, timezone: match.timezone }) : null;
    let judgement: Judgement = { kind: 'unclear' };
    let llm: Record<string, unknown> | null = null;
    if (rule) {
      judgement = { kind: 'rules', rule };
    } else if (text && this.llm.configured) {
      try {
        const r = await this.llm.analyse(text, { today, weekday: WEEKDAYS[local.dayOfWeek - 1], timezone: match.timezone });
        judgement = { kind: 'llm', analysis: r.analysis };
        llm = { model: r.model, analysis: r.analysis, promptTokens: r.promptTokens, cachedTokens: r.cachedTokens, completionTokens: r.completionTokens, costUsd: r.costUsd, ms: r.ms };
      } catch (err) {
        judgement = { kind: 'llm_failed', error: (err as Error).message };
        llm = { error: (err as Error).message };
        this.logger.warn({ inboundMessageId: id, error: (err as Error).message }, 'LLM reply analysis failed; kept as a note for review');
      }
    }
    const decision = decideReply({ text, judgement, unsubscribeConfidence: await this.appConfig.get('unsubscribe_confidence'), today });
    const pauseUntil = decision.effect === 'pause' ? pauseEndsAt(decision.pauseUntil, match.timezone) : null;
    const result: InboundResult = {
      ...header, kind: 'reply', intent: decision.intent, replyText: extraction.fullText, note: decision.note, confidence: decision.confidence,
      // Words we could not tell from history (nothing left of a non-empty body): a person reads it.
      needsReview: decision.needsReview || extraction.reasons.includes('empty_extraction'),
      analysis: this.trust(ctx, {
        classification: 'reply', matchedBy: match.by, rule, llm, effect: decision.effect, source: decision.source, extraction: extractionNote(extraction),
        ...(decision.effect === 'progress' && decision.reviewReason ? { reviewReason: decision.reviewReason } : {}),
        ...(pauseUntil ? { pauseUntilLocalDate: (decision as Extract<ReplyDecision, { effect: 'pause' }>).pauseUntil, pausedUntil: pauseUntil.toISOString() } : {}),
      }),
      matchedUserId: match.userId, matchedLetterId: match.letterId, matchedTopicId: match.topicId,
    };
    return this.commit(id, result, (tx) => this.applyReply(tx, id, match, decision, pauseUntil, now));
  }

  private async applyReply(tx: EntityManager, id: string, match: MatchedSubscription, d: ReplyDecision, pauseUntil: Date | null, now: Date): Promise<string[]> {
    const actor = `user:${match.userId}`;
    const scope = { actor, userId: match.userId, subscriptionId: match.subscriptionId, letterId: match.letterId };
    let cancelled: string[] = [];
    let streak: number | undefined;
    switch (d.effect) {
      case 'none':
        break;
      case 'progress':
        streak = await this.progress.add(tx, {
          subscriptionId: match.subscriptionId, letterId: match.letterId, inboundMessageId: id, completed: d.completed, note: d.note,
        });
        break;
      case 'unsubscribe':
        if (await this.repo.disableSubscription(tx, match.subscriptionId)) {
          cancelled = await this.letters.cancelPending(tx, match.subscriptionId, 'unsubscribed', actor);
          await logEvent(tx, { type: 'UNSUBSCRIBE', ...scope, metadata: { source: 'reply', inbound_message_id: id, confidence: d.confidence } });
        }
        break;
      case 'pause': {
        const until = pauseUntil as Date;
        await this.repo.setPausedUntil(tx, match.subscriptionId, until);
        cancelled = await this.letters.cancelPending(tx, match.subscriptionId, 'paused', actor, until);
        const change = await this.letters.applySubscriptionChange(tx, match.subscriptionId, now);
        cancelled.push(...change.cancelledLetterIds);
        await logEvent(tx, {
          type: 'PAUSE', ...scope,
          metadata: { source: 'reply', inbound_message_id: id, until: until.toISOString(), next_run_at: change.nextRunAt?.toISOString() ?? null },
        });
        break;
      }
    }
    await logEvent(tx, {
      type: 'REPLY_PROCESSED', ...scope,
      metadata: { inbound_message_id: id, kind: 'reply', intent: d.intent, effect: d.effect, source: d.source, needs_review: d.needsReview, ...(streak !== undefined ? { streak } : {}) },
    });
    return cancelled;
  }

  private async autoReply(ctx: Context, m: ParsedMessage, c: Extract<Classification, { kind: 'auto_reply' }>): Promise<ProcessOutcome> {
    const { id, header } = ctx;
    const match = await this.match(ctx, m);
    const result: InboundResult = {
      ...header, kind: 'auto_reply', intent: null, replyText: null, note: null, confidence: null, needsReview: false,
      analysis: this.trust(ctx, { classification: 'auto_reply', reason: c.reason, matchedBy: match.ok ? match.by : null }),
      matchedUserId: match.ok ? match.userId : null, matchedLetterId: match.ok ? match.letterId : null, matchedTopicId: match.ok ? match.topicId : null,
    };
    return this.commit(id, result, async (tx) => {
      if (match.ok) {
        await logEvent(tx, {
          type: 'REPLY_PROCESSED', userId: match.userId, subscriptionId: match.subscriptionId, letterId: match.letterId,
          metadata: { inbound_message_id: id, kind: 'auto_reply' },
        });
      }
      return [];
    });
  }

  /**
   * The message a report is about, and the address it went to, from its signed bounce address
   * (`b+l…` a letter, `b+t…` a sign-in mail): the only way a DSN or report names one of our
   * messages that nobody but the receiving system could have learned.
   */
  private async bounceTarget(ctx: Context): Promise<ReportTarget | null> {
    const b = onlySigned(ctx.recipients, 'bounce_letter', 'bounce_transactional');
    if (!b) return null;
    if (b.kind === 'bounce_transactional') {
      const t = await this.repo.loginTokenRecipient(b.id);
      return t ? { email: t.email.toLowerCase(), userId: t.userId, letter: null, by: 'bounce_address' } : null;
    }
    const l = await this.repo.letterWithSubscriber(b.id);
    if (!l) return null;
    const { email, ...rest } = l;
    return { email: email.toLowerCase(), userId: l.userId, letter: { by: 'letter', ...rest }, by: 'bounce_address' };
  }

  private unmatchedReport(ctx: Context, classification: 'bounce' | 'complaint', reason: string, extra: Record<string, unknown>): Promise<ProcessOutcome> {
    return this.commit(ctx.id, {
      ...ctx.header, kind: 'unmatched', intent: null, replyText: null, note: null, confidence: null, needsReview: false,
      analysis: this.trust(ctx, { classification, unmatched: reason, ...extra }),
      matchedUserId: null, matchedLetterId: null, matchedTopicId: null,
    });
  }

  /**
   * A DSN counts only when it came back to a valid bounce address and names that message's
   * recipient: hard → that one address is suppressed, soft → counted. Anything else (a DSN sent
   * by hand naming whoever it likes) is recorded as unmatched and changes nothing.
   */
  private async bounce(ctx: Context, c: Extract<Classification, { kind: 'bounce' }>): Promise<ProcessOutcome> {
    const { id, header } = ctx;
    const details = { hard: c.hard, status: c.status ?? null, recipients: c.recipients.length };
    const target = await this.bounceTarget(ctx);
    if (!target) return this.unmatchedReport(ctx, 'bounce', 'no_bounce_address', details);
    if (!c.recipients.includes(target.email)) return this.unmatchedReport(ctx, 'bounce', 'recipient_not_ours', details);
    this.metrics.bounces.inc({ hard: String(c.hard) });
    const result: InboundResult = {
      ...header, kind: 'bounce', intent: null, replyText: null, note: null, confidence: null, needsReview: false,
      analysis: this.trust(ctx, { classification: 'bounce', matchedBy: target.by, ...details }),
      matchedUserId: target.userId, matchedLetterId: target.letter?.letterId ?? null, matchedTopicId: target.letter?.topicId ?? null,
    };
    return this.commit(id, result, async (tx) => {
      if (c.hard) await this.suppressHardBounce(tx, target, c.status ?? null, { detail: `bounce ${c.status ?? 'without status'} (inbound ${id})`, metadata: { inbound_message_id: id } });
      return [];
    });
  }

  /**
   * The effect of a verified permanent failure — a DSN at a bounce address, or a provider's signed
   * event: that one address suppressed, with its SUPPRESSED event. False when it already was.
   */
  async suppressHardBounce(tx: EntityManager, target: ReportTarget, status: string | null, origin: ReportOrigin): Promise<boolean> {
    return this.suppressions.add(tx, {
      address: target.email, reason: 'hard_bounce', detail: origin.detail,
      event: { userId: target.userId, letterId: target.letter?.letterId ?? null, metadata: { status, ...origin.metadata } },
    });
  }

  /**
   * A feedback-loop complaint counts only when it identifies one of our messages and the address
   * it went to. Identified by the signed bounce address (feedback loops report to the envelope
   * sender), the message's recipient is known even when the report redacts it — unless the
   * report names other addresses only. Identified by the attached original's X-MZ-Letter or
   * Message-ID (unsigned), the report must also name that recipient. Then that one address is
   * suppressed and the letter's subscription turned off; no other address is touched, however
   * many the report lists.
   */
  private async complaint(ctx: Context, m: ParsedMessage, c: Extract<Classification, { kind: 'complaint' }>): Promise<ProcessOutcome> {
    const { id, header } = ctx;
    const details = { recipients: c.recipients.length };
    let target = await this.bounceTarget(ctx);
    if (target) {
      if (c.recipients.length && !c.recipients.includes(target.email)) return this.unmatchedReport(ctx, 'complaint', 'recipient_not_ours', details);
    } else {
      let l: Awaited<ReturnType<ReplyRepository['letterWithSubscriber']>> = null;
      for (const letterId of embeddedLetterIds(m, this.config.REPLY_DOMAIN)) if ((l = await this.repo.letterWithSubscriber(letterId))) break;
      if (!l) return this.unmatchedReport(ctx, 'complaint', 'no_message_of_ours', details);
      const { email, ...rest } = l;
      if (!c.recipients.includes(email.toLowerCase())) return this.unmatchedReport(ctx, 'complaint', 'recipient_not_named', details);
      target = { email: email.toLowerCase(), userId: l.userId, letter: { by: 'letter', ...rest }, by: 'embedded_original' };
    }
    const t = target;
    const result: InboundResult = {
      ...header, kind: 'complaint', intent: null, replyText: null, note: null, confidence: null, needsReview: false,
      analysis: this.trust(ctx, { classification: 'complaint', matchedBy: t.by, ...details }),
      matchedUserId: t.userId, matchedLetterId: t.letter?.letterId ?? null, matchedTopicId: t.letter?.topicId ?? null,
    };
    return this.commit(id, result, async (tx) => (await this.applyComplaint(tx, t, { detail: `feedback report (inbound ${id})`, metadata: { inbound_message_id: id } })).cancelled);
  }

  /**
   * The effect of a verified complaint — a feedback report, or a provider's signed event: that one
   * address suppressed and the letter's subscription turned off. Returns the cancelled letters
   * (their jobs go after commit) and whether the address was newly suppressed.
   */
  async applyComplaint(tx: EntityManager, t: ReportTarget, origin: ReportOrigin): Promise<{ suppressed: boolean; cancelled: string[] }> {
    const cancelled: string[] = [];
    const suppressed = await this.suppressions.add(tx, {
      address: t.email, reason: 'complaint', detail: origin.detail,
      event: { userId: t.userId, letterId: t.letter?.letterId ?? null, metadata: origin.metadata },
    });
    if (t.letter && (await this.repo.disableSubscription(tx, t.letter.subscriptionId))) {
      cancelled.push(...(await this.letters.cancelPending(tx, t.letter.subscriptionId, 'complaint')));
      await logEvent(tx, { type: 'UNSUBSCRIBE', userId: t.userId, subscriptionId: t.letter.subscriptionId, metadata: { source: 'complaint', ...origin.metadata } });
    }
    return { suppressed, cancelled };
  }

  /**
   * The message's effects and its own row in one transaction, after locking the row and
   * re-checking it is unprocessed. Jobs of cancelled letters are removed after commit (a job that
   * slips through finds its row cancelled: the ledger claim refuses it).
   */
  private async commit(id: string, result: InboundResult, effects?: (tx: EntityManager) => Promise<string[]>): Promise<ProcessOutcome> {
    const cancelled = await this.repo.transaction(async (tx) => {
      if (!(await this.messages.lockUnprocessed(tx, id))) return null;
      const ids = effects ? await effects(tx) : [];
      await this.messages.finish(tx, id, result);
      return ids;
    });
    if (cancelled === null) return { outcome: 'already_processed' };
    if (cancelled.length) {
      await this.letters.removeQueuedJobs(cancelled).catch((err) => this.logger.warn({ err, inboundMessageId: id }, 'could not remove jobs of cancelled letters; their rows refuse them'));
    }
    const kind = result.kind as InboundKind;
    this.metrics.processed.inc({ kind });
    if (kind === 'unmatched') this.metrics.unmatched.inc();
    if (result.intent) this.metrics.intents.inc({ intent: result.intent });
    return { outcome: 'processed', kind, intent: result.intent, needsReview: result.needsReview };
  }
}
