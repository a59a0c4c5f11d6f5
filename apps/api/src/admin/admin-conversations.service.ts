import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { likeEscape, type Page } from '../common/pagination';
import type { ConversationsParams, ConversationViewJson } from '@mz/api-schemas';

/** ConversationView as read from Postgres (a Date, which goes out as the view's ISO string). */
export type ConversationRow = Omit<ConversationViewJson, 'lastActivityAt'> & { lastActivityAt: Date | null };

/**
 * Every subscriber's conversation in one list: letters sent to them and replies matched to them
 * (the messages of the per-user thread), the time of the latest of either, and the intent of the
 * latest reply — newest activity first. A topic filter counts only that topic's messages.
 */
@Injectable()
export class AdminConversationsService {
  constructor(private readonly ds: DataSource) {}

  async list(q: ConversationsParams): Promise<Page<ConversationRow>> {
    const params: unknown[] = [];
    let topicLetter = '';
    let topicReply = '';
    if (q.topic) {
      params.push(q.topic);
      topicLetter = `AND l.topic_id = (SELECT id FROM topic WHERE code = $${params.length})`;
      topicReply = `AND im.matched_topic_id = (SELECT id FROM topic WHERE code = $${params.length})`;
    }
    const where: string[] = [];
    if (q.q) {
      params.push(`%${likeEscape(q.q.toLowerCase())}%`);
      where.push(`(c.email LIKE $${params.length} OR lower(coalesce(c.name, '')) LIKE $${params.length})`);
    }
    if (q.lastIntent === 'none') where.push(`c.last_intent IS NULL`);
    else if (q.lastIntent) {
      params.push(q.lastIntent);
      where.push(`c.last_intent = $${params.length}`);
    }
    const sql = `
      WITH sent AS (
        SELECT l.user_id, count(*)::int AS n, max(l.sent_at) AS last_at FROM letter l WHERE l.status = 'sent' ${topicLetter} GROUP BY l.user_id
      ), replied AS (
        SELECT im.matched_user_id AS user_id, count(*)::int AS n, max(im.received_at) AS last_at
          FROM inbound_message im WHERE im.kind = 'reply' AND im.matched_user_id IS NOT NULL ${topicReply} GROUP BY im.matched_user_id
      ), c AS (
        SELECT u.id, u.email, u.name, coalesce(s.n, 0) AS letters, coalesce(r.n, 0) AS replies,
               greatest(s.last_at, r.last_at) AS last_at,
               (SELECT im.intent FROM inbound_message im WHERE im.matched_user_id = u.id AND im.kind = 'reply' ${topicReply}
                 ORDER BY im.received_at DESC LIMIT 1) AS last_intent
          FROM app_user u LEFT JOIN sent s ON s.user_id = u.id LEFT JOIN replied r ON r.user_id = u.id
         WHERE s.user_id IS NOT NULL OR r.user_id IS NOT NULL
      )
      SELECT c.*, count(*) OVER ()::int AS total FROM c ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY c.last_at DESC NULLS LAST, c.id
       LIMIT ${q.pageSize} OFFSET ${(q.page - 1) * q.pageSize}`;
    const rows: Record<string, unknown>[] = await this.ds.query(sql, params);
    const items = rows.map((r) => ({
      userId: r.id as string,
      email: r.email as string,
      name: (r.name as string | null) ?? null,
      lettersSent: r.letters as number,
      replies: r.replies as number,
      messages: (r.letters as number) + (r.replies as number),
      lastActivityAt: (r.last_at as Date | null) ?? null,
      lastIntent: (r.last_intent as string | null) ?? null,
    }));
    // count(*) OVER () rides on the rows; a page past the end has none, so ask again for the total.
    const total = rows.length ? (rows[0].total as number) : q.page > 1 ? (await this.list({ ...q, page: 1, pageSize: 1 })).total : 0;
    return { items, page: q.page, pageSize: q.pageSize, total };
  }
}
