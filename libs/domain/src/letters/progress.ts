import type { EntityManager } from 'typeorm';

export interface ProgressInput {
  subscriptionId: string;
  letterId: string | null;
  /** The reply that carried it; null when it came from the web ("Mark done" in My letters). */
  inboundMessageId: string | null;
  completed: boolean;
  note: string | null;
}

/**
 * One progress row (per reply, or per web "done"); `streak_at_time` computed as the composer
 * reads a streak: progress grouped per letter (a "done" and a later note on one letter count
 * once), newest first, letters marked done until the first that was not — this row included.
 * The subscription row is locked so two progress writes at once count in order. Used by the
 * reply worker and by `markLetterDone` alike, so both ways of saying "done" have one effect.
 * Returns the streak after the write.
 */
export async function addProgress(m: EntityManager, p: ProgressInput): Promise<number> {
  await m.query(`SELECT id FROM subscription WHERE id = $1 FOR UPDATE`, [p.subscriptionId]);
  const [row] = await m.query(
    `INSERT INTO progress (subscription_id, letter_id, inbound_message_id, completed, note)
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (inbound_message_id) DO NOTHING RETURNING id`,
    [p.subscriptionId, p.letterId, p.inboundMessageId, p.completed, p.note],
  );
  const streak = await currentStreak(m, p.subscriptionId);
  if (row) await m.query(`UPDATE progress SET streak_at_time = $2 WHERE id = $1`, [row.id, streak]);
  return streak;
}

/** The streak as the composer reads it (see addProgress). */
export async function currentStreak(m: EntityManager, subscriptionId: string): Promise<number> {
  const [s] = await m.query(
    `SELECT count(*)::int AS streak FROM (
       SELECT bool_and(g.done) OVER (ORDER BY g.at DESC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS unbroken
         FROM (SELECT bool_or(pr.completed) AS done, max(pr.created_at) AS at
                 FROM progress pr WHERE pr.subscription_id = $1
                GROUP BY coalesce(pr.letter_id, pr.id)) g
     ) x WHERE x.unbroken`,
    [subscriptionId],
  );
  return s.streak;
}
