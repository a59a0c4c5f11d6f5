/**
 * The pools and the named prepared statements through a real PgBouncer in transaction mode
 * (started by the test): many pooled clients share two server connections, so a statement
 * prepared on one server connection is executed on another. PgBouncer >= 1.21 with
 * max_prepared_statements re-prepares it there; with tracking off (PgBouncer < 1.21 or
 * max_prepared_statements = 0) the same load fails — which shows the test exercises it.
 */
import type { DataSource } from 'typeorm';
import { startPgBouncer, type TestPgBouncer } from '../../../test/support/pgbouncer';
import { createTestEnv, type TestEnv } from '../../../test/support/test-env';
import { createDataSource } from './data-source';
import { namedStatement, queryNamed } from './named-statement';

const add = namedStatement('mz_spec_pgb_add', `SELECT $1::int + $2::int AS sum, pg_backend_pid() AS pid`);
const upsert = namedStatement(
  'mz_spec_pgb_upsert',
  `INSERT INTO app_config (key, value) VALUES ($1, $2::jsonb)
   ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value RETURNING value`,
);

async function load(ds: DataSource, n: number): Promise<{ ok: number; errors: string[]; backends: Set<number> }> {
  const errors: string[] = [];
  const backends = new Set<number>();
  let ok = 0;
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      try {
        const [row] = await queryNamed<{ sum: number; pid: number }>(ds, add, [i, 1]);
        if (row.sum !== i + 1) throw new Error(`wrong sum ${row.sum} for ${i}`);
        backends.add(row.pid);
        // And inside a transaction: both statements on that transaction's server connection.
        await ds.transaction(async (em) => {
          const [v] = await queryNamed<{ value: { i: number } }>(em, upsert, [`pgb_${i % 7}`, JSON.stringify({ i })]);
          if (v.value.i !== i) throw new Error('upsert returned another row');
          await queryNamed(em, add, [i, 2]);
        });
        ok++;
      } catch (err) {
        errors.push((err as Error).message);
      }
    }),
  );
  return { ok, errors, backends };
}

describe('PgBouncer in transaction mode', () => {
  let env: TestEnv;
  let bouncer: TestPgBouncer;

  beforeAll(async () => {
    env = await createTestEnv();
    bouncer = await startPgBouncer({ poolSize: 2, maxPreparedStatements: 100 });
  });

  afterAll(async () => {
    await bouncer?.stop();
    await env?.dispose();
  });

  it('runs named statements from 10 pooled clients over 2 server connections, also in transactions', async () => {
    const ds = createDataSource({ url: bouncer.urlFor(env.database), poolMax: 10 });
    await ds.initialize();
    try {
      const result = await load(ds, 300);
      expect(result.errors).toEqual([]);
      expect(result.ok).toBe(300);
      expect(result.backends.size).toBeLessThanOrEqual(2); // really multiplexed onto PgBouncer's pool
      expect(await ds.showMigrations()).toBe(false); // readiness' migration check works through it
    } finally {
      await ds.destroy();
    }
  });

  it('recovers after PgBouncer is killed and restarted under the pool', async () => {
    const ds = createDataSource({ url: bouncer.urlFor(env.database), poolMax: 10 });
    await ds.initialize();
    try {
      expect((await load(ds, 50)).errors).toEqual([]);
      await bouncer.restart();
      // Pooled clients whose socket died fail once and are discarded; new ones connect.
      const deadline = Date.now() + 15_000;
      let after = await load(ds, 50);
      while (after.errors.length && Date.now() < deadline) after = await load(ds, 50);
      expect(after.errors).toEqual([]);
    } finally {
      await ds.destroy();
    }
  });

  it('fails the same load without prepared-statement tracking (PgBouncer < 1.21 behaviour)', async () => {
    const untracked = await startPgBouncer({ poolSize: 2, maxPreparedStatements: 0 });
    const ds = createDataSource({ url: untracked.urlFor(env.database), poolMax: 10 });
    try {
      await ds.initialize();
      const result = await load(ds, 100);
      expect(result.errors.length).toBeGreaterThan(0);
      expect(result.errors.join('\n')).toMatch(/prepared statement "mz_spec_pgb_\w+" (does not exist|already exists)/);
    } finally {
      await ds.destroy().catch(() => undefined);
      await untracked.stop();
    }
  });
});
