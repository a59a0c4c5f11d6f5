/**
 * InboundMessageRepository against Postgres. load: `raw` comes back byte for byte whatever its
 * length — empty, small, on and around the piece boundaries, a 2 MB message — and a large one is
 * never decoded from one query result (node-pg decodes bytea from hex on the event loop). store:
 * one row per message key whatever path delivers it, capped, with clean envelope values.
 */
import { randomBytes } from 'node:crypto';
import { types } from 'pg';
import type { DataSource } from 'typeorm';
import { createTestEnv, type TestEnv } from '../../../../test/support/test-env';
import { createDataSource } from '../data-source';
import { InboundMessageRepository, RAW_PIECE_BYTES } from './inbound-message.repository';

const BYTEA = 17;
const P = RAW_PIECE_BYTES;
const LENGTHS = [0, 1, 4096, P - 1, P, P + 1, 2 * P - 1, 2 * P, 2 * P + 1, 3 * P, 8 * P, 8 * P + 17];

describe('InboundMessageRepository', () => {
  let env: TestEnv;
  let ds: DataSource;
  let repo: InboundMessageRepository;
  const byteaParser = types.getTypeParser(BYTEA, 'text');
  let longestHex = 0;

  beforeAll(async () => {
    env = await createTestEnv();
    ds = createDataSource({ url: env.databaseUrl, poolMax: 4 });
    await ds.initialize();
    repo = new InboundMessageRepository(ds);
    // Watches what node-pg decodes in one go (no change to the result).
    types.setTypeParser(BYTEA, 'text', (value: string) => {
      longestHex = Math.max(longestHex, value.length);
      return byteaParser(value);
    });
  });

  afterAll(async () => {
    types.setTypeParser(BYTEA, 'text', byteaParser);
    await ds?.destroy();
    await env?.dispose();
  });

  async function insert(raw: Buffer, extra: { truncated?: boolean; size?: number; processed?: boolean } = {}): Promise<string> {
    const [row] = await ds.query(
      `INSERT INTO inbound_message (message_id, raw, raw_size, raw_truncated, source, processed_at)
       VALUES ($1, $2, $3, $4, 'webhook', CASE WHEN $5 THEN now() END) RETURNING id`,
      [`<${randomBytes(8).toString('hex')}@test>`, raw, extra.size ?? raw.length, extra.truncated ?? false, extra.processed ?? false],
    );
    return row.id;
  }

  it.each(LENGTHS)('returns a raw of %d bytes byte for byte', async (length) => {
    const raw = randomBytes(length);
    const id = await insert(raw);
    longestHex = 0;
    const loaded = await repo.load(id);
    expect(loaded).toMatchObject({ id, rawTruncated: false, rawSize: length, processed: false });
    expect(loaded!.raw.length).toBe(length);
    expect(loaded!.raw.equals(raw)).toBe(true);
    // '\x' + two hex digits per byte: never more than one piece decoded at once.
    expect(longestHex).toBeLessThanOrEqual(2 + 2 * P);
  });

  it('keeps the flags of a processed or truncated row', async () => {
    const raw = randomBytes(P + 5);
    const id = await insert(raw, { truncated: true, size: 20_000_000, processed: true });
    const loaded = await repo.load(id);
    expect(loaded).toMatchObject({ id, rawTruncated: true, rawSize: 20_000_000, processed: true });
    expect(loaded!.raw.equals(raw)).toBe(true);
  });

  it('several large loads at once each get their own bytes', async () => {
    const raws = [3 * P + 1, 2 * P, 5 * P - 3].map((n) => randomBytes(n));
    const ids = await Promise.all(raws.map((r) => insert(r)));
    const loaded = await Promise.all(ids.map((id) => repo.load(id)));
    loaded.forEach((l, i) => expect(l!.raw.equals(raws[i])).toBe(true));
  });

  it('null for an unknown id', async () => {
    expect(await repo.load('00000000-0000-4000-8000-000000000000')).toBeNull();
  });

  describe('store', () => {
    const mail = (id: string, body = 'hello') => Buffer.from(`Message-ID: <${id}@sender.example>\r\nFrom: a@b.example\r\n\r\n${body}\r\n`);

    it('stores a message once per Message-ID, whichever path delivers it again', async () => {
      const id = randomBytes(6).toString('hex');
      const first = await repo.store({ raw: mail(id), source: 'smtp', envelopeFrom: 'A@B.example' }, 1_000_000);
      expect(first).toMatchObject({ duplicate: false, processed: false, messageId: `<${id}@sender.example>` });
      const again = await repo.store({ raw: mail(id, 'other bytes, same id'), source: 'imap' }, 1_000_000);
      expect(again).toEqual({ ...first, duplicate: true });
      const rows = await ds.query(`SELECT source, envelope_from FROM inbound_message WHERE message_id = $1`, [first.messageId]);
      expect(rows).toEqual([{ source: 'smtp', envelope_from: 'a@b.example' }]);
    });

    it('says a duplicate was processed already', async () => {
      const stored = await repo.store({ raw: mail(randomBytes(6).toString('hex')), source: 'webhook' }, 1_000_000);
      await ds.query(`UPDATE inbound_message SET processed_at = now() WHERE id = $1`, [stored.id]);
      expect(await repo.store({ raw: mail(stored.messageId.slice(1, 13)), source: 'webhook' }, 1_000_000)).toMatchObject({ id: stored.id, duplicate: true, processed: true });
    });

    it('keeps at most maxBytes and records the full size; envelope control characters never reach a column', async () => {
      const raw = mail(randomBytes(6).toString('hex'), 'x'.repeat(5000));
      const stored = await repo.store({ raw, source: 'smtp', envelopeFrom: 'Ev\u0000il@x.example', envelopeTo: ['R+1@Reply.example\r\n'], helo: 'h\u0001elo' }, 1000);
      const [row] = await ds.query(`SELECT octet_length(raw) AS kept, raw_size, raw_truncated, envelope_from, envelope_to, helo FROM inbound_message WHERE id = $1`, [stored.id]);
      expect(row).toEqual({ kept: 1000, raw_size: raw.length, raw_truncated: true, envelope_from: 'evil@x.example', envelope_to: ['r+1@reply.example'], helo: 'helo' });
    });

    it('a message without a Message-ID is keyed by its bytes', async () => {
      const raw = Buffer.from(`From: a@b.example\r\n\r\n${randomBytes(8).toString('hex')}\r\n`);
      const a = await repo.store({ raw, source: 'smtp' }, 1_000_000);
      expect(a.messageId).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(await repo.store({ raw, source: 'smtp' }, 1_000_000)).toMatchObject({ id: a.id, duplicate: true });
    });
  });
});
