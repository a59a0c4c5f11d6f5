import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { Temporal } from 'temporal-polyfill';
import type { EntityManager } from 'typeorm';
import type { AppConfig, InboundKind, ReplyIntent } from '@mz/contracts';
import { logEvent } from '@mz/db';
import { LetterCommands } from '@mz/domain';
import { APP_CONFIG, Clock, LOGGER } from '@mz/platform';
import {
  type Classification, classifyMessage, extractReplyText, letterIdFromMessageIds, MessageParseError, type ParsedMessage, ruleIntent,
  topicCodeFromMessage, warmRules,
} from '../analysis';
import { INBOUND_OPTIONS, type InboundOptions } from '../inbound-options';
import { InboundMetrics } from '../inbound.metrics';
import { InboundMessageParser } from './inbound-message.parser';
import { decideReply, type Judgement, type ReplyDecision } from './reply-decision';
import { ReplyLlmClient } from './reply-llm.client';
import { type InboundResult, type MatchedSubscription, ReplyRepository } from './reply.repository';

export type ProcessOutcome =
  | { outcome: 'missing' | 'already_processed' }
  | { outcome: 'failed'; error: string }
  | { outcome: 'processed'; kind: InboundKind; intent: ReplyIntent | null; needsReview: boolean };

type Match = ({ ok: true } & MatchedSubscription) | { ok: false; reason: 'no_reference' | 'sender_not_subscriber' | 'no_subscription_for_sender' | 'no_sender' };
type Header = Pick<InboundResult, 'fromAddress' | 'subject'>;

const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
/** Where DSNs and ARF reports carry the headers of the message they are about. */
const EMBEDDED_HEADER_PARTS = new Set(['text/rfc822-headers', 'message/rfc822', 'message/global-headers']);

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
 * `replies.process`: one stored message from raw bytes to its effect (DESIGN §4). Parse (in a
 * worker, with limits; failures recorded), classify, match to the subscriber's letter or topic
 * (the sender must be the subscriber), extract what they wrote, decide the intent (rules, then
 * the LLM if configured), and apply the effect together with the message's own row in one
 * transaction that first re-checks the row is unprocessed — so a re-delivered job changes nothing.
 */
@Injectable()
export class ProcessReplyService implements OnModuleInit {
  private readonly logger: Logger;
  private readonly clock: Clock;

  constructor(
    private readonly repo: ReplyRepository,
    private readonly parser: InboundMessageParser,
    private readonly llm: ReplyLlmClient,
    private readonly letters: LetterCommands,
    private readonly metrics: InboundMetrics,
    clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(INBOUND_OPTIONS) options: InboundOptions,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.logger = logger.child({ component: 'process-reply' });
    this.clock = options.clock ?? clock;
  }

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
    if (await this.repo.recordFailure(id, error)) this.metrics.processed.inc({ kind: 'error' });
    return { outcome: 'failed', error };
  }

  private async run(id: string): Promise<ProcessOutcome> {
    const row = await this.repo.load(id);
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
    const c = classifyMessage(m);
    switch (c.kind) {
      case 'bounce':
        return this.bounce(id, header, c);
      case 'complaint':
        return this.complaint(id, m, header, c);
      case 'auto_reply':
        return this.autoReply(id, m, header, c);
      case 'reply':
        return this.reply(id, m, header);
    }
  }

  /**
   * In-Reply-To/References name one of our letters → that letter, if the sender is its
   * subscriber. Otherwise X-MZ-Topic / [mz:code] + the sender's own subscription to that topic.
   * A forged tag or a spoofed From finds nothing of anyone else's.
   */
  private async match(m: ParsedMessage): Promise<Match> {
    const sender = m.from?.address?.toLowerCase();
    if (!sender) return { ok: false, reason: 'no_sender' };
    let spoofed = false;
    const letterId = letterIdFromMessageIds([m.inReplyTo, m.references.join(' ')], this.config.REPLY_DOMAIN);
    if (letterId) {
      const letter = await this.repo.letterWithSubscriber(letterId);
      if (letter && letter.email.toLowerCase() === sender) return { ok: true, by: 'letter', ...letter };
      spoofed = !!letter;
    }
    const code = topicCodeFromMessage(m);
    if (code) {
      const sub = await this.repo.subscriptionOf(sender, code);
      if (sub) return { ok: true, by: 'topic', letterId: null, ...sub };
    }
    if (spoofed) return { ok: false, reason: 'sender_not_subscriber' };
    return { ok: false, reason: code ? 'no_subscription_for_sender' : 'no_reference' };
  }

  private async reply(id: string, m: ParsedMessage, header: Header): Promise<ProcessOutcome> {
    const now = this.clock.now();
    const text = extractReplyText(m);
    const match = await this.match(m);
    if (!match.ok) {
      // Read by the rules for the console's benefit only (no LLM for strangers); nothing changes.
      const rule = text ? ruleIntent(text, { now, timezone: 'UTC' }) : null;
      return this.commit(id, {
        ...header, kind: 'unmatched', intent: null, replyText: text || null, note: null, confidence: null, needsReview: false,
        analysis: { classification: 'reply', unmatched: match.reason, rule }, matchedUserId: null, matchedLetterId: null, matchedTopicId: null,
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
    const decision = decideReply({ text, judgement, unsubscribeConfidence: await this.repo.unsubscribeConfidence(), today });
    const pauseUntil = decision.effect === 'pause' ? pauseEndsAt(decision.pauseUntil, match.timezone) : null;
    const result: InboundResult = {
      ...header, kind: 'reply', intent: decision.intent, replyText: text, note: decision.note, confidence: decision.confidence,
      needsReview: decision.needsReview,
      analysis: {
        classification: 'reply', matchedBy: match.by, rule, llm, effect: decision.effect, source: decision.source,
        ...(decision.effect === 'progress' && decision.reviewReason ? { reviewReason: decision.reviewReason } : {}),
        ...(pauseUntil ? { pauseUntilLocalDate: (decision as Extract<ReplyDecision, { effect: 'pause' }>).pauseUntil, pausedUntil: pauseUntil.toISOString() } : {}),
      },
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
        streak = await this.repo.addProgress(tx, {
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
        cancelled = await this.repo.cancelPendingBefore(tx, match.subscriptionId, until, actor);
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

  private async autoReply(id: string, m: ParsedMessage, header: Header, c: Extract<Classification, { kind: 'auto_reply' }>): Promise<ProcessOutcome> {
    const match = await this.match(m);
    const result: InboundResult = {
      ...header, kind: 'auto_reply', intent: null, replyText: null, note: null, confidence: null, needsReview: false,
      analysis: { classification: 'auto_reply', reason: c.reason, matchedBy: match.ok ? match.by : null },
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

  /** Hard bounces suppress the failed addresses that are our users'; soft ones are only recorded. */
  private async bounce(id: string, header: Header, c: Extract<Classification, { kind: 'bounce' }>): Promise<ProcessOutcome> {
    const users = await this.repo.usersByEmail(c.recipients);
    const result: InboundResult = {
      ...header, kind: 'bounce', intent: null, replyText: null, note: null, confidence: null, needsReview: false,
      analysis: { classification: 'bounce', hard: c.hard, status: c.status ?? null, recipients: c.recipients.length, users: users.length },
      matchedUserId: users.length === 1 ? users[0].id : null, matchedLetterId: null, matchedTopicId: null,
    };
    return this.commit(id, result, async (tx) => {
      if (!c.hard) return [];
      for (const u of users) {
        if (await this.repo.suppress(tx, u.email, 'hard_bounce', `bounce ${c.status ?? 'without status'} (inbound ${id})`)) {
          await logEvent(tx, { type: 'SUPPRESSED', userId: u.id, metadata: { reason: 'hard_bounce', status: c.status ?? null, inbound_message_id: id } });
        }
      }
      return [];
    });
  }

  /**
   * A feedback-loop complaint: the address is suppressed, and the subscription the complained-
   * about letter belongs to is disabled (every subscription of the user when the report does not
   * say which letter), pending letters cancelled.
   */
  private async complaint(id: string, m: ParsedMessage, header: Header, c: Extract<Classification, { kind: 'complaint' }>): Promise<ProcessOutcome> {
    const users = await this.repo.usersByEmail(c.recipients);
    const embedded = m.parts.filter((p) => EMBEDDED_HEADER_PARTS.has(p.contentType) && p.text).map((p) => p.text as string);
    const letterId = letterIdFromMessageIds(embedded, this.config.REPLY_DOMAIN);
    const letter = letterId ? await this.repo.letterWithSubscriber(letterId) : null;
    const result: InboundResult = {
      ...header, kind: 'complaint', intent: null, replyText: null, note: null, confidence: null, needsReview: false,
      analysis: { classification: 'complaint', recipients: c.recipients.length, users: users.length, letterFound: !!letter },
      matchedUserId: users.length === 1 ? users[0].id : null,
      matchedLetterId: letter && users.some((u) => u.id === letter.userId) ? letter.letterId : null,
      matchedTopicId: letter && users.some((u) => u.id === letter.userId) ? letter.topicId : null,
    };
    return this.commit(id, result, async (tx) => {
      const cancelled: string[] = [];
      for (const u of users) {
        if (await this.repo.suppress(tx, u.email, 'complaint', `feedback report (inbound ${id})`)) {
          await logEvent(tx, { type: 'SUPPRESSED', userId: u.id, metadata: { reason: 'complaint', inbound_message_id: id } });
        }
        const subs = letter && letter.userId === u.id ? [letter.subscriptionId] : await this.repo.userSubscriptionIds(tx, u.id);
        for (const sub of subs) {
          if (!(await this.repo.disableSubscription(tx, sub))) continue;
          cancelled.push(...(await this.letters.cancelPending(tx, sub, 'complaint')));
          await logEvent(tx, { type: 'UNSUBSCRIBE', userId: u.id, subscriptionId: sub, metadata: { source: 'complaint', inbound_message_id: id } });
        }
      }
      return cancelled;
    });
  }

  /**
   * The message's effects and its own row in one transaction, after locking the row and
   * re-checking it is unprocessed. Jobs of cancelled letters are removed after commit (a job that
   * slips through finds its row cancelled: the ledger claim refuses it).
   */
  private async commit(id: string, result: InboundResult, effects?: (tx: EntityManager) => Promise<string[]>): Promise<ProcessOutcome> {
    const cancelled = await this.repo.transaction(async (tx) => {
      if (!(await this.repo.lockUnprocessed(tx, id))) return null;
      const ids = effects ? await effects(tx) : [];
      await this.repo.finish(tx, id, result);
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
