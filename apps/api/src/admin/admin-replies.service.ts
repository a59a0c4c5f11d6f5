import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { LetterCommands, logAdminAction } from '@mz/domain';
import type { Page } from '../common/pagination';
import type { SessionUser } from '../auth/session.service';
import { UnsubscribeService } from '../unsubscribe/unsubscribe.service';
import type { RepliesParams } from '@mz/api-schemas';

/**
 * Received mail as the console shows it: what was understood (kind, intent, confidence, the
 * extracted text) — never the raw MIME, whose HTML is untrusted. Replies flagged for review (a
 * low-confidence unsubscribe) are confirmed or dismissed here.
 */
const COLUMNS = `
  im.id, im.message_id AS "messageId", im.source, im.kind, im.intent, im.confidence::float8 AS confidence,
  im.needs_review AS "needsReview", im.reviewed_at AS "reviewedAt", im.processed_at AS "processedAt", im.error,
  im.from_address AS "fromAddress", im.subject, im.reply_text AS text,
  (im.analysis->'extraction'->>'forwardedAt')::int AS "forwardedAt", im.note, im.raw_size AS "rawSize",
  im.matched_user_id AS "userId", u.email AS "userEmail", im.matched_letter_id AS "letterId", t.code AS topic,
  im.received_at AS "receivedAt"`;
const FROM = `FROM inbound_message im LEFT JOIN app_user u ON u.id = im.matched_user_id LEFT JOIN topic t ON t.id = im.matched_topic_id`;

@Injectable()
export class AdminRepliesService {
  constructor(private readonly ds: DataSource, private readonly unsubscribe: UnsubscribeService, private readonly letters: LetterCommands) {}

  async list(q: RepliesParams): Promise<Page<Record<string, unknown>>> {
    const params: unknown[] = [];
    const where: string[] = [];
    const add = (sql: string, v: unknown) => {
      if (v === undefined) return;
      params.push(v);
      where.push(`${sql} = $${params.length}`);
    };
    add('im.kind', q.kind);
    add('im.matched_user_id', q.userId);
    add('im.needs_review', q.needsReview);
    const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const [{ total }] = await this.ds.query(`SELECT count(*)::int AS total ${FROM} ${w}`, params);
    const items = await this.ds.query(`SELECT ${COLUMNS} ${FROM} ${w} ORDER BY im.received_at DESC LIMIT ${q.pageSize} OFFSET ${(q.page - 1) * q.pageSize}`, params);
    return { items, page: q.page, pageSize: q.pageSize, total };
  }

  /** Waiting for a decision, oldest first. */
  review() {
    return this.ds.query(`SELECT ${COLUMNS} ${FROM} WHERE im.needs_review AND im.reviewed_at IS NULL ORDER BY im.received_at`);
  }

  async detail(id: string) {
    const [r] = await this.ds.query(`SELECT ${COLUMNS}, im.analysis, im.envelope_from AS "envelopeFrom" ${FROM} WHERE im.id = $1`, [id]);
    if (!r) throw new NotFoundException('Message not found');
    return r;
  }

  async confirmUnsubscribe(admin: SessionUser, id: string) {
    const cancelled = await this.ds.transaction(async (m) => {
      const [r] = await m.query(
        `SELECT im.id, im.needs_review, im.reviewed_at, im.matched_user_id, COALESCE(l.subscription_id, s.id) AS subscription_id
           FROM inbound_message im
           LEFT JOIN letter l ON l.id = im.matched_letter_id
           LEFT JOIN subscription s ON s.user_id = im.matched_user_id AND s.topic_id = im.matched_topic_id
          WHERE im.id = $1 FOR UPDATE OF im`,
        [id],
      );
      if (!r) throw new NotFoundException('Message not found');
      if (!r.needs_review || r.reviewed_at) throw new ConflictException('This reply is not waiting for review');
      if (!r.subscription_id) throw new ConflictException('This reply is not matched to a subscription');
      const ids = await this.unsubscribe.disable(m, r.subscription_id, { actor: admin.id, source: 'review' });
      await m.query(`UPDATE inbound_message SET needs_review = false, reviewed_at = now(), intent = 'unsubscribe' WHERE id = $1`, [id]);
      await logAdminAction(m, admin, {
        action: 'reply.confirm_unsubscribe', userId: r.matched_user_id, subscriptionId: r.subscription_id,
        details: { inboundMessageId: id, cancelledLetters: ids.length },
      });
      return ids;
    });
    if (cancelled.length) await this.letters.removeQueuedJobs(cancelled);
    return this.detail(id);
  }

  async dismiss(admin: SessionUser, id: string) {
    await this.ds.transaction(async (m) => {
      const [r] = await m.query(`SELECT needs_review, reviewed_at, matched_user_id FROM inbound_message WHERE id = $1 FOR UPDATE`, [id]);
      if (!r) throw new NotFoundException('Message not found');
      if (!r.needs_review || r.reviewed_at) throw new ConflictException('This reply is not waiting for review');
      await m.query(`UPDATE inbound_message SET needs_review = false, reviewed_at = now() WHERE id = $1`, [id]);
      await logAdminAction(m, admin, { action: 'reply.dismiss', userId: r.matched_user_id, details: { inboundMessageId: id } });
    });
    return this.detail(id);
  }
}
