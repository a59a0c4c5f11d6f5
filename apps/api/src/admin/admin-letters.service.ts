import { Injectable, NotFoundException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Page } from '../common/pagination';
import { sanitizeLetterHtml } from '../common/sanitize';
import type { LettersAdminParams } from '@mz/api-schemas';

const LIST_COLUMNS = `
  l.id, l.user_id AS "userId", u.email AS "userEmail", t.code AS topic, t.name AS "topicName", l.kind, l.status,
  l.scheduled_for AS "scheduledFor", l.local_date::text AS "localDate", l.sent_at AS "sentAt", l.subject,
  l.attempts, l.error_type AS "errorType", l.last_error AS "lastError", l.next_retry_at AS "nextRetryAt",
  l.skip_reason AS "skipReason", l.model, l.prompt_version AS "promptVersion", l.created_at AS "createdAt", l.updated_at AS "updatedAt"`;

/**
 * Letters for the console: filter by status/user/topic, the retry state (attempts, error class,
 * last error, next attempt) exactly as the row holds it, and one letter's whole story.
 */
@Injectable()
export class AdminLettersService {
  constructor(private readonly ds: DataSource) {}

  async list(q: LettersAdminParams): Promise<Page<Record<string, unknown>> & { countsByStatus: Record<string, number> }> {
    const from = `FROM letter l JOIN topic t ON t.id = l.topic_id JOIN app_user u ON u.id = l.user_id`;
    const f = filters(q, true);
    const [{ total }] = await this.ds.query(`SELECT count(*)::int AS total ${from} ${f.where}`, f.params);
    const items = await this.ds.query(
      `SELECT ${LIST_COLUMNS} ${from} ${f.where} ORDER BY l.scheduled_for DESC, l.id LIMIT ${q.pageSize} OFFSET ${(q.page - 1) * q.pageSize}`,
      f.params,
    );
    // Counts for the status tabs, under the same filters except the status itself.
    const tabs = filters(q, false);
    const counts: { status: string; n: number }[] = await this.ds.query(`SELECT l.status, count(*)::int AS n ${from} ${tabs.where} GROUP BY l.status`, tabs.params);
    return { items, page: q.page, pageSize: q.pageSize, total, countsByStatus: Object.fromEntries(counts.map((c) => [c.status, c.n])) };
  }

  async detail(id: string) {
    const [l] = await this.ds.query(
      `SELECT ${LIST_COLUMNS}, l.subscription_id AS "subscriptionId", l.message_id AS "messageId", l.body_text AS "bodyText",
              l.body_html AS "bodyHtml", l.summary, l.themes, l.tone, l.advice_focus AS "adviceFocus", l.variation_tags AS "variationTags",
              l.prompt_template_id AS "promptTemplateId", l.prompt_tokens AS "promptTokens", l.completion_tokens AS "completionTokens",
              l.compose_ms AS "composeMs", l.send_ms AS "sendMs", l.composed_at AS "composedAt", l.lease_until AS "leaseUntil",
              l.smtp_response AS "smtpResponse", l.fallback_reason AS "fallbackReason",
              l.delivered_at AS "deliveredAt", l.delivered_by AS "deliveredBy",
              l.language, (SELECT s.language FROM subscription s WHERE s.id = l.subscription_id) AS "subscriptionLanguage"
         FROM letter l JOIN topic t ON t.id = l.topic_id JOIN app_user u ON u.id = l.user_id WHERE l.id = $1`,
      [id],
    );
    if (!l) throw new NotFoundException('Letter not found');
    const [prompt] = await this.ds.query(`SELECT messages, response, created_at AS "createdAt" FROM letter_prompt WHERE letter_id = $1`, [id]);
    const events = await this.ds.query(
      `SELECT id, type, actor, metadata, created_at AS "createdAt" FROM event_log WHERE letter_id = $1 ORDER BY created_at, id`,
      [id],
    );
    const replies = await this.ds.query(
      `SELECT id, source, kind, intent, confidence::float8 AS confidence, needs_review AS "needsReview", reply_text AS text, note,
              received_at AS "receivedAt", processed_at AS "processedAt", error
         FROM inbound_message WHERE matched_letter_id = $1 ORDER BY received_at`,
      [id],
    );
    return { ...l, bodyHtml: sanitizeLetterHtml(l.bodyHtml), prompt: prompt ?? null, events, replies };
  }
}

function filters(q: LettersAdminParams, withStatus: boolean): { where: string; params: unknown[] } {
  const params: unknown[] = [];
  const where: string[] = [];
  const add = (column: string, v: unknown) => {
    if (v === undefined) return;
    params.push(v);
    where.push(`${column} = $${params.length}`);
  };
  if (withStatus) add('l.status', q.status);
  add('l.kind', q.kind);
  add('l.error_type', q.errorType);
  add('l.user_id', q.userId);
  add('t.code', q.topic);
  return { where: where.length ? `WHERE ${where.join(' AND ')}` : '', params };
}
