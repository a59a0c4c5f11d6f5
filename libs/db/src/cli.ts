/**
 * Database entry point for operators and `npm run db:*`: `migrate`, `revert [steps]`, `seed`,
 * `setup` (create database if missing + migrate + seed). Workers never migrate on start.
 */
import { ConfigError, parseConfig } from '@mz/contracts';
import { createDataSource } from './data-source';
import { ensureDatabase, migrateDatabase, revertMigrations } from './migrate';
import { seedDatabase } from './seed/seed';

async function main(): Promise<void> {
  const [command, arg] = process.argv.slice(2);
  const config = parseConfig(process.env);
  // Through PgBouncer (transaction mode) DATABASE_URL is pooled; migrations take the direct URL.
  const url = config.DATABASE_MIGRATION_URL ?? config.DATABASE_URL;
  const seed = async () => {
    const ds = createDataSource({ url, poolMax: 2, applicationName: 'mentor-zero-seed' });
    await ds.initialize();
    try {
      await seedDatabase(ds, { adminEmails: config.DEFAULT_ADMIN_EMAILS });
    } finally {
      await ds.destroy();
    }
    console.log('seeded');
  };
  switch (command) {
    case 'setup':
    case 'migrate': {
      // DATABASE_URL may name a database that does not exist yet.
      if (await ensureDatabase(url)) console.log('created database');
      const ran = await migrateDatabase(url);
      console.log(ran.length ? `migrated: ${ran.join(', ')}` : 'migrations: up to date');
      if (command === 'setup') await seed();
      return;
    }
    case 'seed':
      await seed();
      return;
    case 'revert':
      await revertMigrations(url, arg ? Number(arg) : 1);
      console.log('reverted');
      return;
    default:
      console.error('usage: cli.js setup | migrate | revert [steps] | seed');
      process.exitCode = 2;
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : `database command failed: ${(err as Error).message}`);
  process.exitCode = 1;
});
