import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { queryRows } from '@mz/db';
import type { LlmChatBody } from '@mz/llm';

/** What a batched letter asked for: the exact first request a synchronous call would send, and its prompt version. */
export interface BatchRequest {
  body: LlmChatBody;
  promptTemplateId: string;
  promptVersion: number;
}

export type BatchItemStatus = 'pending' | 'submitted' | 'answered' | 'failed' | 'used' | 'abandoned';

export interface BatchItem {
  letterId: string;
  status: BatchItemStatus;
  deadline: Date;
  request: BatchRequest;
  /** The result line's response body (a chat completion) once answered. */
  response: unknown;
  error: string | null;
}

/** One result matched back to its letter by custom_id: an answer, or why there is none. */
export type BatchResult = { letterId: string; response: unknown } | { letterId: string; error: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * `llm_batch_item`, which only the composer writes (docs/architecture.md §7, §14): one row per
 * letter sent through the Batch API. Every step is a conditional UPDATE on the row's status, so
 * retries, duplicate polls and concurrent composers settle on one outcome; the letter's own
 * transitions stay in LetterRepository.
 */
@Injectable()
export class LlmBatchRepository {
  constructor(private readonly ds: DataSource) {}

  async find(letterId: string): Promise<BatchItem | null> {
    const [r] = await queryRows<{ letter_id: string; status: BatchItemStatus; deadline: Date; request: BatchRequest; response: unknown; error: string | null }>(
      this.ds, `SELECT letter_id, status, deadline, request, response, error FROM llm_batch_item WHERE letter_id = $1`, [letterId],
    );
    return r ? { letterId: r.letter_id, status: r.status, deadline: new Date(r.deadline), request: r.request, response: r.response, error: r.error } : null;
  }

  /** A new request waiting for the next batch window. False: the letter already has one. */
  async addPending(letterId: string, request: BatchRequest, deadline: Date): Promise<boolean> {
    const rows = await queryRows(
      this.ds,
      `INSERT INTO llm_batch_item (letter_id, request, deadline) VALUES ($1, $2::jsonb, $3) ON CONFLICT (letter_id) DO NOTHING RETURNING letter_id`,
      [letterId, JSON.stringify(request), deadline],
    );
    return rows.length > 0;
  }

  /** answered → used, returning the answer: exactly one composer attempt takes it. */
  async takeAnswer(letterId: string): Promise<BatchItem | null> {
    const [r] = await queryRows<{ status: BatchItemStatus; deadline: Date; request: BatchRequest; response: unknown }>(
      this.ds,
      `UPDATE llm_batch_item SET status = 'used', updated_at = now() WHERE letter_id = $1 AND status = 'answered'
       RETURNING status, deadline, request, response`,
      [letterId],
    );
    return r ? { letterId, status: r.status, deadline: new Date(r.deadline), request: r.request, response: r.response, error: null } : null;
  }

  /** pending|submitted → abandoned: the letter is composed without it; a late answer is ignored. */
  async abandon(letterId: string, reason: string): Promise<void> {
    await this.ds.query(
      `UPDATE llm_batch_item SET status = 'abandoned', error = $2, updated_at = now() WHERE letter_id = $1 AND status IN ('pending', 'submitted')`,
      [letterId, reason],
    );
  }

  /**
   * One batch window: locks up to `limit` pending requests of letters still `scheduled` whose
   * deadline is ahead, hands their bodies to `submit` (upload + create) and marks them `submitted`
   * with the batch id in the same transaction. If the commit is lost the rows stay pending and go
   * into the next batch; the orphaned batch's answers match no submitted row and are dropped.
   * Pending requests of letters that moved on (cancelled, composed) are abandoned first.
   */
  async submitPending(limit: number, submit: (lines: { letterId: string; body: LlmChatBody }[]) => Promise<string>): Promise<{ batchId: string; count: number } | null> {
    await this.ds.query(
      `UPDATE llm_batch_item i SET status = 'abandoned', error = 'letter no longer waiting for a batch', updated_at = now()
         FROM letter l
        WHERE l.id = i.letter_id AND i.status = 'pending' AND (l.status <> 'scheduled' OR i.deadline <= now())`,
    );
    return this.ds.transaction(async (m) => {
      const rows = await queryRows<{ letter_id: string; body: LlmChatBody }>(
        m,
        `SELECT i.letter_id, i.request -> 'body' AS body FROM llm_batch_item i
          WHERE i.status = 'pending' AND i.deadline > now()
          ORDER BY i.deadline, i.letter_id
          LIMIT ${Math.trunc(limit)}
          FOR UPDATE SKIP LOCKED`,
      );
      if (!rows.length) return null;
      const batchId = await submit(rows.map((r) => ({ letterId: r.letter_id, body: r.body })));
      await m.query(
        `UPDATE llm_batch_item SET status = 'submitted', batch_id = $2, updated_at = now() WHERE letter_id = ANY($1::uuid[]) AND status = 'pending'`,
        [rows.map((r) => r.letter_id), batchId],
      );
      return { batchId, count: rows.length };
    });
  }

  /** Batches with requests still waiting for their answer. */
  async openBatches(): Promise<string[]> {
    const rows = await queryRows<{ batch_id: string }>(this.ds, `SELECT DISTINCT batch_id FROM llm_batch_item WHERE status = 'submitted' AND batch_id IS NOT NULL`);
    return rows.map((r) => r.batch_id);
  }

  /**
   * A finished batch's results, matched by custom_id (= letter id): submitted → answered|failed.
   * Only rows of this batch still `submitted` change, so a duplicate poll changes nothing.
   * Returns how many rows changed.
   */
  async recordResults(batchId: string, results: readonly BatchResult[]): Promise<number> {
    const valid = results.filter((r) => UUID.test(r.letterId));
    if (!valid.length) return 0;
    const rows = await queryRows(
      this.ds,
      `UPDATE llm_batch_item i
          SET status = CASE WHEN v.error IS NULL THEN 'answered' ELSE 'failed' END,
              response = v.response, error = v.error, updated_at = now()
         FROM unnest($2::uuid[], $3::jsonb[], $4::text[]) AS v(letter_id, response, error)
        WHERE i.letter_id = v.letter_id AND i.batch_id = $1 AND i.status = 'submitted'
        RETURNING i.letter_id`,
      [
        batchId,
        valid.map((r) => r.letterId),
        valid.map((r) => ('response' in r ? JSON.stringify(r.response) : null)),
        valid.map((r) => ('error' in r ? r.error.slice(0, 1000) : null)),
      ],
    );
    return rows.length;
  }

  /** Requests of a finished batch that got no result line (expired, failed batch): submitted → failed. */
  async failRemaining(batchId: string, error: string): Promise<number> {
    const rows = await queryRows(
      this.ds,
      `UPDATE llm_batch_item SET status = 'failed', error = $2, updated_at = now() WHERE batch_id = $1 AND status = 'submitted' RETURNING letter_id`,
      [batchId, error],
    );
    return rows.length;
  }

  /** Letters still `scheduled` whose request has its outcome (answered or failed): their compose job should run now. */
  async settledWaiting(limit: number): Promise<{ id: string }[]> {
    return queryRows<{ id: string }>(
      this.ds,
      `SELECT i.letter_id AS id FROM llm_batch_item i JOIN letter l ON l.id = i.letter_id
        WHERE i.status IN ('answered', 'failed') AND l.status = 'scheduled'
        ORDER BY i.deadline LIMIT ${Math.trunc(limit)}`,
    );
  }

  /**
   * Rows whose story is over, kept two days for investigation: used, abandoned, failed, and answers
   * nobody took (the letter was cancelled meanwhile). Not longer: a request holds the whole prompt
   * (the reader's name, notes and context), which letter_prompt keeps only while `log_prompts` is on.
   */
  async prune(olderThanDays = 2): Promise<number> {
    const rows = await queryRows(
      this.ds,
      `DELETE FROM llm_batch_item WHERE status NOT IN ('pending', 'submitted') AND updated_at < now() - $1 * interval '1 day' RETURNING letter_id`,
      [olderThanDays],
    );
    return rows.length;
  }
}
