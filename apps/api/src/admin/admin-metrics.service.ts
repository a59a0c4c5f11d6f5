import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ALL_QUEUES } from '@mz/contracts';
import { QueueService } from '@mz/platform';

const JOB_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'paused', 'failed', 'completed'] as const;

/**
 * The console's dashboard, computed from the rows (the source of truth) over the last `days`:
 * sends and failures per day, lateness percentiles of scheduled letters (sent_at − scheduled_for),
 * replies, done-rate by topic and by prompt version (letters sent in the window that got a
 * "done"), the maintenance job's kpi_daily rollup, live queue depths from Redis, and what the LLM
 * cost: per letter, per day, per topic and prompt version, the reply classifier's share, and the
 * share of prompt tokens served from the provider's cache.
 */
@Injectable()
export class AdminMetricsService {
  constructor(private readonly ds: DataSource, private readonly queues: QueueService) {}

  async metrics(days: number) {
    const since = `now() - make_interval(days => $1::int)`;
    const [perDay, lateness, byTopic, byPrompt, statusNow, kpiDaily, queues, llmCost] = await Promise.all([
      this.ds.query(
        `WITH d AS (SELECT generate_series((now() - make_interval(days => $1::int - 1))::date, now()::date, '1 day')::date AS day)
         SELECT d.day::text AS day,
                (SELECT count(*)::int FROM letter l WHERE l.status = 'sent' AND l.sent_at::date = d.day) AS sent,
                (SELECT count(*)::int FROM event_log e WHERE e.type = 'LETTER_FAILED' AND e.created_at::date = d.day) AS failed,
                (SELECT count(*)::int FROM event_log e WHERE e.type = 'LETTER_SKIPPED' AND e.created_at::date = d.day) AS skipped,
                (SELECT count(*)::int FROM inbound_message m WHERE m.kind = 'reply' AND m.received_at::date = d.day) AS replies,
                (SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM l.sent_at - l.scheduled_for)))::int
                   FROM letter l WHERE l.status = 'sent' AND l.kind = 'scheduled' AND l.sent_at::date = d.day) AS "latenessP50Sec"
           FROM d ORDER BY d.day`,
        [days],
      ),
      this.ds.query(
        `SELECT count(*)::int AS letters,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM sent_at - scheduled_for))::float8 AS "p50Sec",
                percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM sent_at - scheduled_for))::float8 AS "p99Sec",
                max(extract(epoch FROM sent_at - scheduled_for))::float8 AS "maxSec"
           FROM letter WHERE status = 'sent' AND kind = 'scheduled' AND sent_at >= ${since}`,
        [days],
      ),
      this.ds.query(
        `SELECT t.code AS topic, t.name, count(l.id)::int AS sent,
                count(l.id) FILTER (WHERE EXISTS (SELECT 1 FROM progress p WHERE p.letter_id = l.id AND p.completed))::int AS done,
                count(l.id) FILTER (WHERE EXISTS (SELECT 1 FROM inbound_message m WHERE m.matched_letter_id = l.id AND m.kind = 'reply'))::int AS replied
           FROM topic t LEFT JOIN letter l ON l.topic_id = t.id AND l.status = 'sent' AND l.sent_at >= ${since}
          GROUP BY t.code, t.name ORDER BY t.name`,
        [days],
      ),
      this.ds.query(
        `SELECT t.code AS topic, COALESCE(l.prompt_version, 0) AS "promptVersion", count(*)::int AS sent,
                count(*) FILTER (WHERE EXISTS (SELECT 1 FROM progress p WHERE p.letter_id = l.id AND p.completed))::int AS done
           FROM letter l JOIN topic t ON t.id = l.topic_id
          WHERE l.status = 'sent' AND l.sent_at >= ${since}
          GROUP BY t.code, COALESCE(l.prompt_version, 0) ORDER BY t.code, 2`,
        [days],
      ),
      this.ds.query(`SELECT status, count(*)::int AS n FROM letter GROUP BY status`),
      this.ds.query(
        `SELECT k.day::text AS day, t.code AS topic, k.prompt_version AS "promptVersion", k.sent, k.failed, k.replies, k.done,
                k.lateness_p50_ms AS "latenessP50Ms", k.lateness_p99_ms AS "latenessP99Ms"
           FROM kpi_daily k JOIN topic t ON t.id = k.topic_id
          WHERE k.day >= (now() - make_interval(days => $1::int))::date ORDER BY k.day, t.code, k.prompt_version`,
        [days],
      ),
      this.queueDepths(),
      this.llmCost(days),
    ]);
    const rate = (done: number, sent: number) => (sent ? Math.round((done / sent) * 1000) / 1000 : null);
    return {
      days,
      generatedAt: new Date().toISOString(),
      perDay,
      lateness: lateness[0],
      doneRateByTopic: byTopic.map((r: { done: number; sent: number }) => ({ ...r, doneRate: rate(r.done, r.sent) })),
      doneRateByPromptVersion: byPrompt.map((r: { done: number; sent: number }) => ({ ...r, doneRate: rate(r.done, r.sent) })),
      lettersByStatus: Object.fromEntries(statusNow.map((r: { status: string; n: number }) => [r.status, r.n])),
      kpiDaily,
      queues,
      llmCost,
    };
  }

  /**
   * LLM spend over letters composed and replies received in the window, from the costs stored with
   * each (letter.cost_usd, inbound_message.analysis→llm→costUsd). `letters` counts letters the LLM
   * wrote; those of a model without a price count there but add no cost (`unpricedLetters`).
   */
  async llmCost(days: number) {
    const replyCost = `CASE WHEN jsonb_typeof(m.analysis->'llm'->'costUsd') = 'number' THEN (m.analysis->'llm'->>'costUsd')::numeric END`;
    const replyTokens = (key: string) => `CASE WHEN jsonb_typeof(m.analysis->'llm'->'${key}') = 'number' THEN (m.analysis->'llm'->>'${key}')::bigint END`;
    const since = `now() - make_interval(days => $1::int)`;
    const [[letters], [replies], perDay, byTopic, byPrompt] = await Promise.all([
      this.ds.query(
        `SELECT count(*)::int AS letters, count(*) FILTER (WHERE cost_usd IS NULL)::int AS "unpricedLetters",
                coalesce(sum(cost_usd), 0)::float8 AS usd, coalesce(sum(prompt_tokens), 0)::float8 AS "promptTokens",
                coalesce(sum(cached_tokens), 0)::float8 AS "cachedTokens"
           FROM letter WHERE prompt_tokens IS NOT NULL AND composed_at >= ${since}`,
        [days],
      ),
      this.ds.query(
        `SELECT count(*)::int AS replies, coalesce(sum(${replyCost}), 0)::float8 AS usd,
                coalesce(sum(${replyTokens('promptTokens')}), 0)::float8 AS "promptTokens", coalesce(sum(${replyTokens('cachedTokens')}), 0)::float8 AS "cachedTokens"
           FROM inbound_message m WHERE m.analysis->'llm' ? 'model' AND m.received_at >= ${since}`,
        [days],
      ),
      this.ds.query(
        `WITH d AS (SELECT generate_series((now() - make_interval(days => $1::int - 1))::date, now()::date, '1 day')::date AS day)
         SELECT d.day::text AS day,
                (SELECT coalesce(sum(l.cost_usd), 0)::float8 FROM letter l WHERE l.composed_at::date = d.day) AS "lettersUsd",
                (SELECT coalesce(sum(${replyCost}), 0)::float8 FROM inbound_message m WHERE m.received_at::date = d.day) AS "repliesUsd"
           FROM d ORDER BY d.day`,
        [days],
      ),
      this.ds.query(
        `SELECT t.code AS topic, t.name, count(*)::int AS letters, coalesce(sum(l.cost_usd), 0)::float8 AS usd
           FROM letter l JOIN topic t ON t.id = l.topic_id
          WHERE l.prompt_tokens IS NOT NULL AND l.composed_at >= ${since}
          GROUP BY t.code, t.name ORDER BY usd DESC, t.name`,
        [days],
      ),
      this.ds.query(
        `SELECT t.code AS topic, COALESCE(l.prompt_version, 0) AS "promptVersion", count(*)::int AS letters, coalesce(sum(l.cost_usd), 0)::float8 AS usd
           FROM letter l JOIN topic t ON t.id = l.topic_id
          WHERE l.prompt_tokens IS NOT NULL AND l.composed_at >= ${since}
          GROUP BY t.code, COALESCE(l.prompt_version, 0) ORDER BY t.code, 2`,
        [days],
      ),
    ]);
    const per = (usd: number, n: number) => (n ? usd / n : null);
    const totalUsd = letters.usd + replies.usd;
    const promptTokens = letters.promptTokens + replies.promptTokens;
    return {
      totalUsd,
      perLetterUsd: per(letters.usd, letters.letters - letters.unpricedLetters),
      letters,
      replies,
      replyShare: totalUsd > 0 ? replies.usd / totalUsd : null,
      cacheHitShare: promptTokens > 0 ? (letters.cachedTokens + replies.cachedTokens) / promptTokens : null,
      perDay,
      byTopic: byTopic.map((r: { usd: number; letters: number }) => ({ ...r, perLetterUsd: per(r.usd, r.letters) })),
      byPromptVersion: byPrompt.map((r: { usd: number; letters: number }) => ({ ...r, perLetterUsd: per(r.usd, r.letters) })),
    };
  }

  /** Live counts per queue; a Redis hiccup shows as `error` rather than failing the whole page. */
  async queueDepths() {
    return Promise.all(
      ALL_QUEUES.map(async (name) => {
        try {
          return { queue: name, counts: await this.queues.queue(name).getJobCounts(...JOB_STATES) };
        } catch {
          return { queue: name, counts: null, error: 'unavailable' };
        }
      }),
    );
  }
}
