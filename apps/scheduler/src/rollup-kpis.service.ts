import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Clock } from '@mz/platform';

const DAY_MS = 86_400_000;

/**
 * Maintenance job `rollup-kpis`: recomputes kpi_daily for today and yesterday (UTC days) per
 * topic and prompt version — letters sent and failed, replies, "done" replies, lateness
 * percentiles (sent_at − scheduled_for). Both days are rebuilt in one transaction (delete +
 * insert), so a rerun converges on the same numbers and readers never see a half-written day.
 */
@Injectable()
export class RollupKpisService {
  constructor(private readonly dataSource: DataSource, private readonly clock: Clock) {}

  async run(now: Date = this.clock.now()): Promise<{ days: string[]; rows: number }> {
    const todayStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
    const from = new Date(todayStart - DAY_MS);
    const to = new Date(todayStart + DAY_MS);
    const days = [from.toISOString().slice(0, 10), new Date(todayStart).toISOString().slice(0, 10)];
    const rows = await this.dataSource.transaction(async (m) => {
      await m.query(`DELETE FROM kpi_daily WHERE day = ANY($1::date[])`, [days]);
      const inserted: unknown[] = await m.query(
        `WITH sent AS (
           SELECT (l.sent_at AT TIME ZONE 'UTC')::date AS day, l.topic_id, COALESCE(l.prompt_version, 0) AS pv,
                  count(*)::int AS n,
                  percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM l.sent_at - l.scheduled_for)) * 1000 AS p50,
                  percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM l.sent_at - l.scheduled_for)) * 1000 AS p99
             FROM letter l
            WHERE l.status = 'sent' AND l.sent_at >= $1 AND l.sent_at < $2
            GROUP BY 1, 2, 3
         ), failed AS (
           SELECT (l.updated_at AT TIME ZONE 'UTC')::date AS day, l.topic_id, COALESCE(l.prompt_version, 0) AS pv, count(*)::int AS n
             FROM letter l
            WHERE l.status = 'failed' AND l.updated_at >= $1 AND l.updated_at < $2
            GROUP BY 1, 2, 3
         ), replies AS (
           SELECT (im.received_at AT TIME ZONE 'UTC')::date AS day, COALESCE(l.topic_id, im.matched_topic_id) AS topic_id,
                  COALESCE(l.prompt_version, 0) AS pv, count(*)::int AS n
             FROM inbound_message im
             LEFT JOIN letter l ON l.id = im.matched_letter_id
            WHERE im.kind = 'reply' AND im.received_at >= $1 AND im.received_at < $2
              AND COALESCE(l.topic_id, im.matched_topic_id) IS NOT NULL
            GROUP BY 1, 2, 3
         ), done AS (
           SELECT (p.created_at AT TIME ZONE 'UTC')::date AS day, COALESCE(l.topic_id, s.topic_id) AS topic_id,
                  COALESCE(l.prompt_version, 0) AS pv, count(*)::int AS n
             FROM progress p
             JOIN subscription s ON s.id = p.subscription_id
             LEFT JOIN letter l ON l.id = p.letter_id
            WHERE p.completed AND p.created_at >= $1 AND p.created_at < $2
            GROUP BY 1, 2, 3
         ), keys AS (
           SELECT day, topic_id, pv FROM sent UNION SELECT day, topic_id, pv FROM failed
           UNION SELECT day, topic_id, pv FROM replies UNION SELECT day, topic_id, pv FROM done
         )
         INSERT INTO kpi_daily (day, topic_id, prompt_version, sent, failed, replies, done, lateness_p50_ms, lateness_p99_ms, updated_at)
         SELECT k.day, k.topic_id, k.pv, COALESCE(sent.n, 0), COALESCE(failed.n, 0), COALESCE(replies.n, 0), COALESCE(done.n, 0),
                round(sent.p50)::int, round(sent.p99)::int, now()
           FROM keys k
           LEFT JOIN sent USING (day, topic_id, pv)
           LEFT JOIN failed USING (day, topic_id, pv)
           LEFT JOIN replies USING (day, topic_id, pv)
           LEFT JOIN done USING (day, topic_id, pv)
         RETURNING day`,
        [from, to],
      );
      return inserted.length;
    });
    return { days, rows };
  }
}
