import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { streakSql } from './letter.repository';
import { queryRows, type Queryable } from './rows';

export interface ProgressInput {
  subscriptionId: string;
  letterId: string | null;
  /** The reply that carried it; null when it came from the web ("Mark done" in My letters). */
  inboundMessageId: string | null;
  completed: boolean;
  note: string | null;
}

/**
 * A subscriber's progress: one row per reply (or per web "done"), and the streak every reader
 * counts the same way (streakSql: the composer's claim reads it in the same statement).
 */
@Injectable()
export class ProgressRepository {
  /**
   * One progress row, with `streak_at_time` — this row included. The subscription row is locked
   * so two progress writes at once count in order. The reply worker and the web's "Mark done"
   * both write here, so both ways of saying "done" have one effect. Returns the streak after it.
   */
  async add(m: EntityManager, p: ProgressInput): Promise<number> {
    await m.query(`SELECT id FROM subscription WHERE id = $1 FOR UPDATE`, [p.subscriptionId]);
    const [row] = await queryRows<{ id: string }>(
      m,
      `INSERT INTO progress (subscription_id, letter_id, inbound_message_id, completed, note)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (inbound_message_id) DO NOTHING RETURNING id`,
      [p.subscriptionId, p.letterId, p.inboundMessageId, p.completed, p.note],
    );
    const streak = await this.streak(m, p.subscriptionId);
    if (row) await m.query(`UPDATE progress SET streak_at_time = $2 WHERE id = $1`, [row.id, streak]);
    return streak;
  }

  async streak(q: Queryable, subscriptionId: string): Promise<number> {
    const [s] = await queryRows<{ streak: number }>(q, `SELECT ${streakSql('$1')} AS streak`, [subscriptionId]);
    return s.streak;
  }

  /** Whether the letter was already marked done (by a reply or an earlier click). */
  async isLetterDone(q: Queryable, letterId: string): Promise<boolean> {
    return (await queryRows(q, `SELECT 1 FROM progress WHERE letter_id = $1 AND completed LIMIT 1`, [letterId])).length > 0;
  }
}
