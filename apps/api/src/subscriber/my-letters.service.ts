import { Injectable, NotFoundException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { sanitizeLetterHtml } from '../common/sanitize';
import type { Page } from '../common/pagination';
import type { LettersParams } from '@mz/api-schemas';

export interface ReplyItem { id: string; receivedAt: Date; intent: string | null; text: string | null; note: string | null }
export interface MyLetter {
  id: string;
  topic: { code: string; name: string };
  kind: 'scheduled' | 'send_now';
  status: string;
  scheduledFor: Date;
  sentAt: Date | null;
  subject: string | null;
  bodyText: string | null;
  bodyHtml: string | null;
  done: boolean;
  replies: ReplyItem[];
}

/**
 * A subscriber's letters with their replies, newest first. Cancelled letters are left out (they
 * never existed as far as the reader is concerned); bodies appear once a letter is sent, and the
 * HTML is sanitised again on the way out. Replies are the extracted plain text, never raw MIME.
 */
@Injectable()
export class MyLettersService {
  constructor(private readonly ds: DataSource) {}

  async list(userId: string, q: LettersParams): Promise<Page<MyLetter>> {
    const params: unknown[] = [userId];
    let where = `l.user_id = $1 AND l.status <> 'cancelled'`;
    if (q.topic) {
      params.push(q.topic);
      where += ` AND t.code = $${params.length}`;
    }
    const [{ total }] = await this.ds.query(`SELECT count(*)::int AS total FROM letter l JOIN topic t ON t.id = l.topic_id WHERE ${where}`, params);
    const rows = await this.ds.query(
      `SELECT l.*, t.code AS topic_code, t.name AS topic_name
         FROM letter l JOIN topic t ON t.id = l.topic_id
        WHERE ${where}
        ORDER BY l.scheduled_for DESC, l.created_at DESC
        LIMIT ${q.pageSize} OFFSET ${(q.page - 1) * q.pageSize}`,
      params,
    );
    return { items: await this.withReplies(userId, rows), page: q.page, pageSize: q.pageSize, total };
  }

  async one(userId: string, letterId: string): Promise<MyLetter> {
    const rows = await this.ds.query(
      `SELECT l.*, t.code AS topic_code, t.name AS topic_name FROM letter l JOIN topic t ON t.id = l.topic_id
        WHERE l.id = $1 AND l.user_id = $2 AND l.status <> 'cancelled'`,
      [letterId, userId],
    );
    if (!rows.length) throw new NotFoundException('Letter not found');
    return (await this.withReplies(userId, rows))[0];
  }

  private async withReplies(userId: string, rows: Record<string, unknown>[]): Promise<MyLetter[]> {
    const ids = rows.map((r) => r.id as string);
    const replies: Record<string, unknown>[] = ids.length
      ? await this.ds.query(
          `SELECT id, matched_letter_id, received_at, intent, reply_text, note FROM inbound_message
            WHERE matched_letter_id = ANY($1::uuid[]) AND matched_user_id = $2 AND kind = 'reply'
            ORDER BY received_at`,
          [ids, userId],
        )
      : [];
    const done: { letter_id: string }[] = ids.length
      ? await this.ds.query(`SELECT DISTINCT letter_id FROM progress WHERE letter_id = ANY($1::uuid[]) AND completed`, [ids])
      : [];
    const doneSet = new Set(done.map((d) => d.letter_id));
    return rows.map((r) => {
      const sent = r.status === 'sent';
      return {
        id: r.id as string,
        topic: { code: r.topic_code as string, name: r.topic_name as string },
        kind: r.kind as MyLetter['kind'],
        status: r.status as string,
        scheduledFor: r.scheduled_for as Date,
        sentAt: (r.sent_at as Date | null) ?? null,
        subject: sent ? ((r.subject as string | null) ?? null) : null,
        bodyText: sent ? ((r.body_text as string | null) ?? null) : null,
        bodyHtml: sent ? sanitizeLetterHtml(r.body_html as string | null) : null,
        done: doneSet.has(r.id as string),
        replies: replies
          .filter((x) => x.matched_letter_id === r.id)
          .map((x) => ({
            id: x.id as string,
            receivedAt: x.received_at as Date,
            intent: (x.intent as string | null) ?? null,
            text: (x.reply_text as string | null) ?? null,
            note: (x.note as string | null) ?? null,
          })),
      };
    });
  }
}
