import { adminUrl, withAdminClient } from '../support/pg-admin';

/** Drops the run's template and any per-file database a crashed test left behind. */
export default async function globalTeardown(): Promise<void> {
  const runId = process.env.MZ_TEST_RUN_ID;
  if (!runId || process.env.MZ_TEST_KEEP_DB) return;
  await withAdminClient(adminUrl(), async (client) => {
    const { rows } = await client.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE $1`, [`mz_test_${runId}_%`]);
    // Per-file databases first: the template cannot be dropped while clones are being made.
    rows.sort((a, b) => Number(a.datname.endsWith('_tpl')) - Number(b.datname.endsWith('_tpl')));
    for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  });
}
