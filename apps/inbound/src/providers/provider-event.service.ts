import { Inject, Injectable } from '@nestjs/common';
import type { Job } from 'bullmq';
import type { Logger } from 'pino';
import type { EntityManager } from 'typeorm';
import type { AppConfig, ProcessProviderEventJob } from '@mz/contracts';
import { LetterRepository, logEvent, ProviderEventRepository, type StoredProviderEvent } from '@mz/db';
import { LetterCommands, letterIdFromMessageId } from '@mz/domain';
import { APP_CONFIG, classifyError, LOGGER, maskText } from '@mz/platform';
import { InboundMetrics } from '../inbound.metrics';
import { ProcessReplyService, type ReportOrigin, type ReportTarget } from '../process/process-reply.service';
import { ReplyRepository } from '../process/reply.repository';
import { stampedId } from './provider-event';
import { ProviderMetrics } from './provider.metrics';

export type ProviderEventOutcome =
  | 'missing' | 'already_processed'
  | 'suppressed' | 'already_suppressed' | 'counted' | 'delivered' | 'already_delivered' | 'recorded' | 'unmatched' | 'failed';

const LOGIN_MESSAGE_ID = /<login\.([0-9a-f-]{36})@([^>\s]+)>/i;

/**
 * `process-provider-event` (on `replies.process`): one stored, verified provider event to its
 * effect. The event names our message by what the mailer stamped for the provider (or, for SES,
 * our own X-MZ-Letter / Message-ID), and must name that message's recipient — the provider's
 * signature proves who is speaking, not that the ids inside are consistent. Then, through the
 * same code as a verified DSN or feedback report: a permanent bounce suppresses that one address,
 * a complaint suppresses it and turns the letter's subscription off; a transient bounce is
 * counted; a delivery marks the letter delivered. Every event on a letter is logged on it with
 * the provider's name, so the console shows who said what.
 */
@Injectable()
export class ProviderEventService {
  private readonly logger: Logger;

  constructor(
    private readonly events: ProviderEventRepository,
    private readonly letterRows: LetterRepository,
    private readonly repo: ReplyRepository,
    private readonly replies: ProcessReplyService,
    private readonly letters: LetterCommands,
    private readonly inboundMetrics: InboundMetrics,
    private readonly metrics: ProviderMetrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.logger = logger.child({ component: 'provider-events' });
  }

  /** The job handler: transient errors retry; a permanent one, or the last attempt, is recorded on the row. */
  async handle(payload: ProcessProviderEventJob, job: Job): Promise<ProviderEventOutcome> {
    try {
      return await this.process(payload.providerEventId);
    } catch (err) {
      const c = classifyError(err);
      const attempts = job.opts.attempts ?? 1;
      if (c.failureClass !== 'permanent' && job.attemptsMade + 1 < attempts) throw err;
      await this.events.finish(this.events.ds, payload.providerEventId, 'failed', null, maskText(`${c.failureClass}: ${c.message}`));
      return 'failed';
    }
  }

  async process(id: string): Promise<ProviderEventOutcome> {
    const e = await this.events.load(this.events.ds, id);
    if (!e) return 'missing';
    if (e.processed) return 'already_processed';
    if (e.type === 'other') return this.finish(e, 'recorded', null);
    const target = await this.target(e);
    if (!target) return this.finish(e, 'unmatched', null, 'no message of ours');
    if (!e.recipient || e.recipient !== target.email) return this.finish(e, 'unmatched', target.letter?.letterId ?? null, 'the event does not name that message\'s recipient');

    const origin: ReportOrigin = {
      detail: `${e.provider} ${e.type}${e.detail.status ? ` ${String(e.detail.status)}` : ''} (provider event ${id})`,
      metadata: { provider: e.provider, provider_event_id: id },
    };
    let cancelled: string[] = [];
    const outcome = await this.events.ds.transaction(async (tx): Promise<ProviderEventOutcome | null> => {
      if (!(await this.events.lockUnprocessed(tx, id))) return null;
      let o: ProviderEventOutcome;
      switch (e.type) {
        case 'bounce':
          o = !e.permanent ? 'counted' : (await this.replies.suppressHardBounce(tx, target, statusOf(e), origin)) ? 'suppressed' : 'already_suppressed';
          break;
        case 'complaint': {
          const r = await this.replies.applyComplaint(tx, target, origin);
          cancelled = r.cancelled;
          o = r.suppressed ? 'suppressed' : 'already_suppressed';
          break;
        }
        default:
          if (!target.letter?.letterId) o = 'recorded'; // a sign-in mail: nothing to mark
          else o = (await this.letterRows.markDelivered(tx, target.letter.letterId, e.provider, e.occurredAt ?? new Date())) ? 'delivered' : 'already_delivered';
      }
      await this.logOnLetter(tx, e, target, o);
      await this.events.finish(tx, id, o, target.letter?.letterId ?? null);
      return o;
    });
    if (outcome === null) return 'already_processed';
    if (e.type === 'bounce') this.inboundMetrics.bounces.inc({ hard: String(e.permanent) });
    if (cancelled.length) {
      await this.letters.removeQueuedJobs(cancelled).catch((err) => this.logger.warn({ err, providerEventId: id }, 'could not remove jobs of cancelled letters; their rows refuse them'));
    }
    this.metrics.events.inc({ provider: e.provider, type: e.type, outcome });
    return outcome;
  }

  /** The message the event names: a sign-in mail by its token, else a letter by its stamped id or our Message-ID. */
  private async target(e: StoredProviderEvent): Promise<ReportTarget | null> {
    const loginTokenId = e.loginTokenId ?? loginTokenFromMessageId(e.messageId, this.config.REPLY_DOMAIN);
    if (loginTokenId && !e.letterId) {
      const t = await this.repo.loginTokenRecipient(loginTokenId);
      return t ? { email: t.email.toLowerCase(), userId: t.userId, letter: null, by: 'provider_event' } : null;
    }
    const letterId = e.letterId ?? (e.messageId ? letterIdFromMessageId(e.messageId, this.config.REPLY_DOMAIN) : null);
    const l = letterId ? await this.repo.letterWithSubscriber(letterId) : null;
    if (!l) return null;
    const { email, ...rest } = l;
    return { email: email.toLowerCase(), userId: l.userId, letter: { by: 'letter', ...rest }, by: 'provider_event' };
  }

  private async logOnLetter(tx: EntityManager, e: StoredProviderEvent, target: ReportTarget, outcome: ProviderEventOutcome): Promise<void> {
    await logEvent(tx, {
      type: 'PROVIDER_EVENT', actor: `provider:${e.provider}`, userId: target.userId, letterId: target.letter?.letterId ?? null,
      subscriptionId: target.letter?.subscriptionId ?? null,
      metadata: { provider: e.provider, type: e.type, permanent: e.permanent, outcome, provider_event_id: e.id, said: e.detail },
    });
  }

  private async finish(e: StoredProviderEvent, outcome: ProviderEventOutcome, letterId: string | null, why?: string): Promise<ProviderEventOutcome> {
    if (!(await this.events.finish(this.events.ds, e.id, outcome, letterId, why ?? null))) return 'already_processed';
    this.metrics.events.inc({ provider: e.provider, type: e.type, outcome });
    return outcome;
  }
}

/** The token id in a sign-in mail's Message-ID (`<login.<id>@REPLY_DOMAIN>`), or null. */
function loginTokenFromMessageId(messageId: string | null, replyDomain: string): string | null {
  const m = messageId ? LOGIN_MESSAGE_ID.exec(messageId) : null;
  return m && m[2].toLowerCase() === replyDomain ? stampedId(m[1]) : null;
}

function statusOf(e: StoredProviderEvent): string | null {
  const s = e.detail.status ?? e.detail.code ?? null;
  return s === null || s === undefined ? null : String(s);
}
