/**
 * Named statements run on the real pool and inside transactions, are prepared once per connection
 * (Postgres keeps them in pg_prepared_statements), and refuse a second text under the same name.
 */
import type { DataSource } from 'typeorm';
import { createTestEnv, type TestEnv } from '../../../test/support/test-env';
import { createDataSource } from './data-source';
import { namedStatement, queryNamed } from './named-statement';

describe('named statements', () => {
  let env: TestEnv;
  let ds: DataSource;

  beforeAll(async () => {
    env = await createTestEnv();
    ds = createDataSource({ url: env.databaseUrl, poolMax: 1 });
    await ds.initialize();
  });

  afterAll(async () => {
    await ds?.destroy();
    await env?.dispose();
  });

  const upsert = namedStatement(
    'mz_spec_config_upsert',
    `INSERT INTO app_config (key, value) VALUES ($1, $2::jsonb)
     ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value RETURNING key, value`,
  );
  const read = namedStatement('mz_spec_config_read', `SELECT value FROM app_config WHERE key = $1`);

  it('returns rows, also for data-modifying statements, and prepares once per connection', async () => {
    const rows = await queryNamed<{ key: string; value: unknown }>(ds, upsert, ['spec_key', JSON.stringify({ n: 1 })]);
    expect(rows).toEqual([{ key: 'spec_key', value: { n: 1 } }]);
    for (let n = 2; n <= 7; n++) await queryNamed(ds, upsert, ['spec_key', JSON.stringify({ n })]);
    expect(await queryNamed(ds, read, ['spec_key'])).toEqual([{ value: { n: 7 } }]);

    // One pooled connection (poolMax 1): both statements are prepared on it exactly once.
    const prepared: { name: string }[] = await ds.query(`SELECT name FROM pg_prepared_statements WHERE name LIKE 'mz_spec_%' ORDER BY name`);
    expect(prepared.map((p) => p.name)).toEqual(['mz_spec_config_read', 'mz_spec_config_upsert']);
  });

  it("runs on a transaction's connection: rolled back with it", async () => {
    await expect(
      ds.transaction(async (m) => {
        await queryNamed(m, upsert, ['spec_rollback', JSON.stringify(true)]);
        expect(await queryNamed(m, read, ['spec_rollback'])).toEqual([{ value: true }]);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await queryNamed(ds, read, ['spec_rollback'])).toEqual([]);
  });

  it('refuses a name reused for other SQL, and names outside the mz_ convention', () => {
    expect(() => namedStatement('mz_spec_config_read', 'SELECT 1')).toThrow(/already registered/);
    expect(namedStatement('mz_spec_config_read', `SELECT value FROM app_config WHERE key = $1`).name).toBe('mz_spec_config_read');
    expect(() => namedStatement('Bad Name', 'SELECT 1')).toThrow(/mz_/);
  });
});
