import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { InboundKind, InboundSource, ReplyIntent } from '@mz/contracts';
import { namedStatement, queryNamed } from '../named-statement';
import { inboundMessageKey } from './inbound-message-key';
import { queryRows, type Queryable } from './rows';

export interface StoreInboundInput {
  raw: Buffer;
  source: InboundSource;
  /** SMTP MAIL FROM / IMAP Return-Path, when the path knows it. */
  envelopeFrom?: string | null;
  /** SMTP RCPT TO addresses: the signed address the message was sent to (SMTP only). */
  envelopeTo?: string[] | null;
  /** The connecting client's IP and EHLO/HELO name, for SPF (SMTP only). */
  remoteAddress?: string | null;
  helo?: string | null;
  /** The message's full size when `raw` holds only its first bytes (an IMAP partial fetch). */
  fullSize?: number;
}

export interface StoredInboundRef {
  id: string;
  /** The key the row is unique on: `<Message-ID>` or `sha256:<hex>`. */
  messageId: string;
  /** The same message was stored before (by any path): nothing new was inserted. */
  duplicate: boolean;
  /** The row was already processed (only ever true for a duplicate). */
  processed: boolean;
}

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

/**
 * `raw` is read at most this many bytes per query. node-pg decodes every field as text, so a bytea
 * arrives as hex (twice its size) and is decoded in one go on the event loop: 16–50 ms for a 2 MB
 * message in one query, a few ms per 256 KB piece.
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

/**
 * `inbound_message`: every received message, stored once per Message-ID whatever carried it
 * (SMTP, IMAP, the signed webhook, a provider's webhook, the console's simulator), then read and
 * settled by the reply worker (docs/architecture.md §4).
 */
@Injectable()
export class InboundMessageRepository {
  constructor(private readonly ds: DataSource) {}

  /**
   * Inserts the raw bytes under their key (inboundMessageKey), at most `maxBytes` of them (the
   * row says when it was cut), unless the same message is stored already: then nothing changes
   * and the existing row is returned as a duplicate. Envelope values are cleaned of control
   * characters (Postgres refuses NUL) and lower-cased.
   */
  async store(input: StoreInboundInput, maxBytes: number, q: Queryable = this.ds): Promise<StoredInboundRef> {
    const messageId = inboundMessageKey(input.raw);
    const fullSize = Math.max(input.fullSize ?? 0, input.raw.length);
    const truncated = fullSize > maxBytes || fullSize > input.raw.length;
    const envelopeFrom = input.envelopeFrom ? envelopeText(input.envelopeFrom, 320).toLowerCase() || null : null;
    const envelopeTo = input.envelopeTo ? input.envelopeTo.map((a) => envelopeText(a, 320).toLowerCase()).filter(Boolean) : null;
    const [inserted] = await queryRows<{ id: string }>(
      q,
      `INSERT INTO inbound_message (message_id, raw, raw_size, raw_truncated, source, envelope_from, envelope_to, remote_address, helo)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (message_id) DO NOTHING
       RETURNING id`,
      [messageId, input.raw.length > maxBytes ? input.raw.subarray(0, maxBytes) : input.raw, fullSize, truncated, input.source, envelopeFrom,
        envelopeTo, (input.remoteAddress && envelopeText(input.remoteAddress, 64)) || null, (input.helo && envelopeText(input.helo, 255)) || null],
    );
    if (inserted) return { id: inserted.id, messageId, duplicate: false, processed: false };
    const [existing] = await queryRows<{ id: string; processed: boolean }>(
      q,
      `SELECT id, processed_at IS NOT NULL AS processed FROM inbound_message WHERE message_id = $1`,
      [messageId],
    );
    return { id: existing.id, messageId, duplicate: true, processed: existing.processed };
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

  /** Locks the row for the effects' transaction; false when another delivery already processed it. */
  async lockUnprocessed(m: EntityManager, id: string): Promise<boolean> {
    const [r] = await m.query(`SELECT processed_at FROM inbound_message WHERE id = $1 FOR UPDATE`, [id]);
    return !!r && r.processed_at === null;
  }

  /** What the worker made of the message, committed with its effects. */
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

  /** Stored but not processed, older than `olderThanMs` (their job was lost between commit and enqueue), oldest first. */
  async unprocessed(olderThanMs: number, limit: number): Promise<string[]> {
    const rows = await queryRows<{ id: string }>(
      this.ds,
      `SELECT id FROM inbound_message
        WHERE processed_at IS NULL AND received_at < now() - make_interval(secs => $1)
        ORDER BY received_at LIMIT $2`,
      [olderThanMs / 1000, limit],
    );
    return rows.map((r) => r.id);
  }

  /** A message we could not process: recorded with its error, never retried. */
  async recordFailure(id: string, error: string): Promise<boolean> {
    const rows = await queryRows(
      this.ds,
      `UPDATE inbound_message SET error = $2, kind = NULL, processed_at = now() WHERE id = $1 AND processed_at IS NULL RETURNING id`,
      [id, error.slice(0, 1000)],
    );
    return rows.length > 0;
  }
}

/**
 * SMTP envelope values (MAIL FROM, RCPT TO, HELO) come from the client as typed: control
 * characters, NUL included, are dropped before they reach a text column (Postgres refuses NUL).
 */
function envelopeText(s: string, max: number): string {
  return s.replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, max);
}
