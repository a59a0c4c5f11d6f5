/**
 * Lease heartbeat against real Postgres: a held row's lease keeps moving forward while the work
 * runs (so the sweeper never takes over a healthy long job); rows not held — a killed worker's —
 * keep their lease and lapse; an expired lease is never revived, and a row that moved on to
 * another status is never touched.
 */
import pino from 'pino';
import type { DataSource } from 'typeorm';
import { type AppConfig } from '@mz/contracts';
import { createDataSource, LetterRepository, seedDatabase, SuppressionRepository } from '@mz/db';
import { makeComposedLetter, makeSubscription, makeUser } from '../../../test/support/fixtures';
import { createTestEnv, type TestEnv } from '../../../test/support/test-env';
import { LetterLeases } from './letter-leases';

describe('LetterLeases', () => {
  let env: TestEnv;
  let ds: DataSource;
  const LEASE_MS = 3_000;

  beforeAll(async () => {
    env = await createTestEnv();
    ds = createDataSource({ url: env.databaseUrl, poolMax: 2 });
    await ds.initialize();
    await seedDatabase(ds);
  });

  afterAll(async () => {
    await ds?.destroy();
    await env?.dispose();
  });

  async function letterIn(status: string, leaseMs: number | null): Promise<string> {
    const user = await makeUser(ds);
    const sub = await makeSubscription(ds, user.id);
    const { id } = await makeComposedLetter(ds, sub, 'reply.test.example');
    await ds.query(`UPDATE letter SET status = $2, lease_until = CASE WHEN $3::int IS NULL THEN NULL ELSE now() + $3::int * interval '1 millisecond' END WHERE id = $1`, [id, status, leaseMs]);
    return id;
  }
  const leaseOf = async (id: string): Promise<number | null> => {
    const [r] = await ds.query(`SELECT extract(epoch FROM lease_until - now()) * 1000 AS left_ms FROM letter WHERE id = $1`, [id]);
    return r.left_ms === null ? null : Number(r.left_ms);
  };

  it('extends the lease of every held row for as long as the work runs, and only those', async () => {
    const leases = new LetterLeases(new LetterRepository(ds, new SuppressionRepository(ds)), { LEASE_MS } as AppConfig, pino({ level: 'silent' }));
    const composing = await letterIn('composing', LEASE_MS);
    const sending = await letterIn('sending', LEASE_MS);
    const notHeld = await letterIn('composing', LEASE_MS); // a killed worker's row
    const expired = await letterIn('composing', -1_000); // the sweeper's to take over
    const movedOn = await letterIn('composed', LEASE_MS);
    let finish!: () => void;
    const work = new Promise<void>((r) => (finish = r));
    const running = Promise.all([composing, sending, expired, movedOn].map((id) => leases.hold(id, () => work)));

    // Twice the lease passes with the timer beating every LEASE_MS / 3: held rows stay leased.
    const started = Date.now();
    while (Date.now() - started < 2 * LEASE_MS) {
      await new Promise((r) => setTimeout(r, 250));
      expect(await leaseOf(composing)).toBeGreaterThan(0);
      expect(await leaseOf(sending)).toBeGreaterThan(0);
    }
    expect(await leaseOf(notHeld)).toBeLessThan(0); // lapsed: nobody beats for it
    expect(await leaseOf(expired)).toBeLessThan(0); // never revived
    expect(await leaseOf(movedOn)).toBeLessThan(0); // not composing/sending: untouched
    expect(leases.holding).toBe(4);

    finish();
    await running;
    expect(leases.holding).toBe(0);
    expect(await leases.beat()).toBe(0); // nothing held, nothing written
    await new Promise((r) => setTimeout(r, LEASE_MS + 200));
    expect(await leaseOf(composing)).toBeLessThan(0); // released: lapses like any other
    await leases.onApplicationShutdown();
  });

  it('releases a row whose work throws, and counts a row held twice until both finish', async () => {
    const leases = new LetterLeases(new LetterRepository(ds, new SuppressionRepository(ds)), { LEASE_MS } as AppConfig, pino({ level: 'silent' }));
    const id = await letterIn('sending', LEASE_MS);
    await expect(leases.hold(id, async () => { throw new Error('smtp down'); })).rejects.toThrow('smtp down');
    expect(leases.holding).toBe(0);
    let finish!: () => void;
    const slow = leases.hold(id, () => new Promise<void>((r) => (finish = r)));
    await leases.hold(id, async () => undefined);
    expect(leases.holding).toBe(1);
    expect(await leases.beat()).toBe(1);
    finish();
    await slow;
    expect(leases.holding).toBe(0);
    await leases.onApplicationShutdown();
  });
});
