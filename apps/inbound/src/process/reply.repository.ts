import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { type InboundKind, type InboundSource, PENDING_LETTER_STATUSES, type ReplyIntent } from '@mz/contracts';
import { namedStatement, queryNamed } from '@mz/db';
import { addProgress, type ProgressInput } from '@mz/domain';

export interface StoredInbound {
  id: string;
  raw: Buffer;
  rawTruncated: boolean;
  rawSize: number;
  processed: boolean;
  source: InboundSource;
  /** What the SMTP connection said (null on the webhook and IMAP paths). */
  envelopeFrom: string | null;
  envelopeTo: string[] | null;
  remoteAddress: string | null;
  helo: string | null;
}

/** The subscription a message was matched to. */
export interface MatchedSubscription {
  by: 'reply_address' | 'letter' | 'topic';
  userId: string;
  subscriptionId: string;
  topicId: string;
  letterId: string | null;
  timezone: string;
}

export interface InboundResult {
  fromAddress: string | null;
  subject: string | null;
  kind: InboundKind | null;
  intent: ReplyIntent | null;
  replyText: string | null;
  note: string | null;
  confidence: number | null;
  analysis: Record<string, unknown>;
  needsReview: boolean;
  matchedUserId: string | null;
  matchedLetterId: string | null;
  matchedTopicId: string | null;
}

/** Rows of an UPDATE … RETURNING: TypeORM's postgres driver answers those with `[rows, rowCount]`. */
function returned(result: unknown): unknown[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0];
  return Array.isArray(result) ? result : [];
}

/**
 * `raw` is read at most this many bytes per query. node-pg decodes every field as text, so a bytea
 * arrives as hex (twice its size) and is decoded in one go on the event loop: 16–50 ms for a 2 MB
 * message in one query, a few ms per 256 KB piece (docs/performance.md, P9).
 */
export const RAW_PIECE_BYTES = 256 * 1024;

// The row, with `raw` only when it fits in one piece (most replies are a few KB).
const LOAD = namedStatement(
  'mz_inbound_load',
  `SELECT id, raw_truncated, raw_size, processed_at IS NOT NULL AS processed, CASE WHEN octet_length(raw) <= $2 THEN raw END AS raw,
          source, envelope_from, envelope_to, remote_address, helo
     FROM inbound_message WHERE id = $1`,
);
const RAW_PIECE = namedStatement(
  'mz_inbound_raw_piece',
  `SELECT octet_length(raw) AS raw_length, substring(raw FROM $2 FOR $3) AS piece FROM inbound_message WHERE id = $1`,
);

interface LoadRow {
  id: string;
  raw_truncated: boolean;
  raw_size: number;
  processed: boolean;
  raw: Buffer | null;
  source: InboundSource;
  envelope_from: string | null;
  envelope_to: string[] | null;
  remote_address: string | null;
  helo: string | null;
}

/** Below this an admin could not act on a reply; above it the value is not a confidence. */
const CONFIDENCE_RANGE = [0.5, 1] as const;
export const DEFAULT_UNSUBSCRIBE_CONFIDENCE = 0.85;

/**
 * The SQL of reply processing: loading and matching read outside the effects' transaction (a
 * large message is read in pieces from one snapshot); every write takes the caller's
 * EntityManager so that a message's effects and its own row commit together.
 */
@Injectable()
export class ReplyRepository {
  constructor(private readonly ds: DataSource) {}

  transaction<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.ds.transaction(fn);
  }

  async load(id: string): Promise<StoredInbound | null> {
    const [r] = await queryNamed<LoadRow>(this.ds, LOAD, [id, RAW_PIECE_BYTES]);
    if (!r) return null;
    const raw = r.raw ?? (await this.rawInPieces(id));
    if (!raw) return null; // deleted meanwhile
    return {
      id: r.id, raw, rawTruncated: r.raw_truncated, rawSize: r.raw_size, processed: r.processed, source: r.source,
      envelopeFrom: r.envelope_from, envelopeTo: r.envelope_to, remoteAddress: r.remote_address, helo: r.helo,
    };
  }

  /**
   * A large `raw`, RAW_PIECE_BYTES per query, so the event loop runs between the pieces' decoding.
   * One snapshot for all of them: an account erasure blanking the row meanwhile must not splice
   * two versions together. Null when the row is gone.
   */
  private rawInPieces(id: string): Promise<Buffer | null> {
    return this.ds.transaction('REPEATABLE READ', async (m) => {
      const pieces: Buffer[] = [];
      let length = Infinity;
      for (let offset = 0; offset < length; offset += RAW_PIECE_BYTES) {
        const [p] = await queryNamed<{ raw_length: number; piece: Buffer }>(m, RAW_PIECE, [id, offset + 1, RAW_PIECE_BYTES]);
        if (!p) return null;
        length = p.raw_length; // the snapshot's, which the first piece fixes
        pieces.push(p.piece);
      }
      return Buffer.concat(pieces, length);
    });
  }

  /** The letter with its subscriber's address (null for an unknown letter or a deleted user). */
  async letterWithSubscriber(letterId: string): Promise<(Omit<MatchedSubscription, 'by'> & { email: string }) | null> {
    const [r] = await this.ds.query(
      `SELECT l.id, l.subscription_id, l.user_id, l.topic_id, s.timezone, u.email
         FROM letter l JOIN subscription s ON s.id = l.subscription_id JOIN app_user u ON u.id = l.user_id
        WHERE l.id = $1 AND u.status <> 'deleted'`,
      [letterId],
    );
    return r ? { letterId: r.id, subscriptionId: r.subscription_id, userId: r.user_id, topicId: r.topic_id, timezone: r.timezone, email: r.email } : null;
  }

  /** The recipient of a sign-in mail, by its login token id (the `b+t…` bounce address). */
  async loginTokenRecipient(tokenId: string): Promise<{ userId: string; email: string } | null> {
    const [r] = await this.ds.query(
      `SELECT u.id, u.email FROM login_token t JOIN app_user u ON u.id = t.user_id WHERE t.id = $1 AND u.status <> 'deleted'`,
      [tokenId],
    );
    return r ? { userId: r.id, email: r.email } : null;
  }

  /** A subscription with its user, for the signed mailto unsubscribe (`u+…`). */
  async subscriptionById(subscriptionId: string): Promise<{ subscriptionId: string; userId: string; topicId: string } | null> {
    const [r] = await this.ds.query(
      `SELECT s.id, s.user_id, s.topic_id FROM subscription s JOIN app_user u ON u.id = s.user_id WHERE s.id = $1 AND u.status <> 'deleted'`,
      [subscriptionId],
    );
    return r ? { subscriptionId: r.id, userId: r.user_id, topicId: r.topic_id } : null;
  }

  /**
   * The text of the letter a reply answers, as it was sent: the extractor recognises it wherever it
   * sits in the reply (quoted, pasted, re-wrapped). Null for a letter not (yet) composed.
   */
  async letterBody(letterId: string): Promise<{ text: string | null; html: string | null; extra: string[] } | null> {
    // The mailer adds the closing quote and the active footer when it sends: both come back too.
    const [r] = await this.ds.query(
      `SELECT l.body_text, l.body_html, q.text AS quote_text,
              (SELECT text_template FROM email_footer WHERE active LIMIT 1) AS footer_text
         FROM letter l LEFT JOIN bottom_quote q ON q.id = l.quote_id
        WHERE l.id = $1`,
      [letterId],
    );
    if (!r || !(r.body_text || r.body_html)) return null;
    return { text: r.body_text, html: r.body_html, extra: [r.quote_text, r.footer_text].filter((t): t is string => !!t) };
  }

  /** The sender's own subscription to a topic, by the sender's address. */
  async subscriptionOf(email: string, topicCode: string): Promise<Omit<MatchedSubscription, 'by' | 'letterId'> | null> {
    const [r] = await this.ds.query(
      `SELECT s.id, s.user_id, s.topic_id, s.timezone
         FROM subscription s JOIN app_user u ON u.id = s.user_id JOIN topic t ON t.id = s.topic_id
        WHERE lower(u.email) = $1 AND t.code = $2 AND u.status <> 'deleted'`,
      [email.toLowerCase(), topicCode],
    );
    return r ? { subscriptionId: r.id, userId: r.user_id, topicId: r.topic_id, timezone: r.timezone } : null;
  }

  async usersByEmail(emails: string[]): Promise<{ id: string; email: string }[]> {
    if (!emails.length) return [];
    return this.ds.query(`SELECT id, email FROM app_user WHERE lower(email) = ANY($1::text[]) AND status <> 'deleted'`, [emails.map((e) => e.toLowerCase())]);
  }

  async userSubscriptionIds(m: EntityManager, userId: string): Promise<string[]> {
    const rows: { id: string }[] = await m.query(`SELECT id FROM subscription WHERE user_id = $1 ORDER BY created_at`, [userId]);
    return rows.map((r) => r.id);
  }

  /** app_config `unsubscribe_confidence`, or the default when missing or out of range. */
  async unsubscribeConfidence(): Promise<number> {
    const [r] = await this.ds.query(`SELECT value FROM app_config WHERE key = 'unsubscribe_confidence'`);
    const v = typeof r?.value === 'number' ? r.value : Number(r?.value);
    return Number.isFinite(v) && v >= CONFIDENCE_RANGE[0] && v <= CONFIDENCE_RANGE[1] ? v : DEFAULT_UNSUBSCRIBE_CONFIDENCE;
  }

  /** Locks the row for the effects' transaction; false when another delivery already processed it. */
  async lockUnprocessed(m: EntityManager, id: string): Promise<boolean> {
    const [r] = await m.query(`SELECT processed_at FROM inbound_message WHERE id = $1 FOR UPDATE`, [id]);
    return !!r && r.processed_at === null;
  }

  async finish(m: EntityManager, id: string, r: InboundResult): Promise<void> {
    await m.query(
      `UPDATE inbound_message
          SET from_address = $2, subject = $3, kind = $4, intent = $5, reply_text = $6, note = $7, confidence = $8,
              analysis = $9::jsonb, needs_review = $10, matched_user_id = $11, matched_letter_id = $12, matched_topic_id = $13,
              processed_at = now(), error = NULL
        WHERE id = $1`,
      [id, r.fromAddress, r.subject, r.kind, r.intent, r.replyText, r.note, r.confidence, JSON.stringify(r.analysis), r.needsReview,
        r.matchedUserId, r.matchedLetterId, r.matchedTopicId],
    );
  }

  /** A message we could not process: recorded with its error, never retried. */
  async recordFailure(id: string, error: string): Promise<boolean> {
    const rows = await this.ds.query(
      `UPDATE inbound_message SET error = $2, kind = NULL, processed_at = now() WHERE id = $1 AND processed_at IS NULL RETURNING id`,
      [id, error.slice(0, 1000)],
    );
    return returned(rows).length > 0;
  }

  /** One progress row per message — the same write as the web's "Mark done" (`@mz/domain` addProgress). */
  addProgress(m: EntityManager, p: ProgressInput & { inboundMessageId: string }): Promise<number> {
    return addProgress(m, p);
  }

  /** Turns a subscription off; true when it was on (the caller cancels letters and logs). */
  async disableSubscription(m: EntityManager, subscriptionId: string): Promise<boolean> {
    const rows = await m.query(`UPDATE subscription SET enabled = false, next_run_at = NULL, updated_at = now() WHERE id = $1 AND enabled RETURNING id`, [subscriptionId]);
    return returned(rows).length > 0;
  }

  async setPausedUntil(m: EntityManager, subscriptionId: string, until: Date): Promise<void> {
    await m.query(`UPDATE subscription SET paused_until = $2, updated_at = now() WHERE id = $1`, [subscriptionId, until]);
  }

  /**
   * Cancels the subscription's pending letters due before the pause ends (the next letter may be
   * composed already and waiting on a delayed send job). Returns their ids for job removal.
   */
  async cancelPendingBefore(m: EntityManager, subscriptionId: string, before: Date, actor: string): Promise<string[]> {
    const rows: { id: string }[] = await m.query(
      `WITH cancelled AS (
         UPDATE letter SET status = 'cancelled', skip_reason = 'paused', lease_until = NULL, next_retry_at = NULL, updated_at = now()
          WHERE subscription_id = $1 AND status = ANY($3::text[]) AND scheduled_for < $2
          RETURNING id, user_id, subscription_id
       ), events AS (
         INSERT INTO event_log (type, actor, user_id, letter_id, subscription_id, metadata)
         SELECT 'LETTER_CANCELLED', $4, user_id, id, subscription_id, jsonb_build_object('reason', 'paused') FROM cancelled
       )
       SELECT id FROM cancelled`,
      [subscriptionId, before, [...PENDING_LETTER_STATUSES], actor],
    );
    return rows.map((r) => r.id);
  }

  /** Adds an address to the suppression list; false when it was already there (any reason). */
  async suppress(m: EntityManager, address: string, reason: 'hard_bounce' | 'complaint', detail: string | null): Promise<boolean> {
    const rows = await m.query(
      `INSERT INTO suppression (address, reason, detail) VALUES (lower($1), $2, $3) ON CONFLICT ((lower(address))) DO NOTHING RETURNING id`,
      [address, reason, detail],
    );
    return returned(rows).length > 0;
  }
}
