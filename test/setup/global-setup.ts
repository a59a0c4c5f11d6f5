/**
 * Runs once per `jest` invocation: builds dist/ (the cross-app tests start real service
 * processes), then creates a fresh template database for this run and migrates it. Each test
 * file clones its own database from the template (test/support/test-env.ts), so files run in
 * parallel without seeing each other's rows, and nothing touches `npm start`'s database.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { adminUrl, databaseUrlFor, withAdminClient } from '../support/pg-admin';
import { migrateDatabase } from '../../libs/db/src/migrate';

export default async function globalSetup(): Promise<void> {
  if (process.env.MZ_TEST_RUN_ID) return; // root config already ran it for this process tree
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const template = `mz_test_${runId}_tpl`;
  process.env.MZ_TEST_RUN_ID = runId;
  process.env.MZ_TEST_TEMPLATE_DB = template;

  const root = join(__dirname, '..', '..');
  execFileSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, stdio: 'inherit', env: { ...process.env, QUIET_BUILD: '1' } });

  await withAdminClient(adminUrl(), async (client) => {
    await client.query(`CREATE DATABASE "${template}"`);
  });
  await migrateDatabase(databaseUrlFor(template));
}
