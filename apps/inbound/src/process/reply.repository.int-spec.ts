/**
 * ReplyRepository.load against Postgres: `raw` comes back byte for byte whatever its length —
 * empty, small, on and around the piece boundaries, a 2 MB message — and a large one is never
 * decoded from one query result (node-pg decodes bytea from hex on the event loop).
 */
import { randomBytes } from 'node:crypto';
import { types } from 'pg';
import type { DataSource } from 'typeorm';
import { createDataSource } from '@mz/db';
import { createTestEnv, type TestEnv } from '../../../../test/support/test-env';
import { RAW_PIECE_BYTES, ReplyRepository } from './reply.repository';

const BYTEA = 17;
const P = RAW_PIECE_BYTES;
const LENGTHS = [0, 1, 4096, P - 1, P, P + 1, 2 * P - 1, 2 * P, 2 * P + 1, 3 * P, 8 * P, 8 * P + 17];

describe('ReplyRepository.load', () => {
  let env: TestEnv;
  let ds: DataSource;
  let repo: ReplyRepository;
  const byteaParser = types.getTypeParser(BYTEA, 'text');
  let longestHex = 0;

  beforeAll(async () => {
    env = await createTestEnv();
    ds = createDataSource({ url: env.databaseUrl, poolMax: 4 });
    await ds.initialize();
    repo = new ReplyRepository(ds);
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
});
