import { Client } from 'pg';
import { createDataSource } from './data-source';

/** Creates the database named in `url` if it does not exist yet (npm start's first run). */
export async function ensureDatabase(url: string): Promise<boolean> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_-]{1,63}$/.test(name)) throw new Error(`unsupported database name "${name}"`);
  // Connect to the target first: managed Postgres users often may not open the maintenance DB.
  const probe = new Client({ connectionString: url });
  try {
    await probe.connect();
    return false;
  } catch (err) {
    if ((err as { code?: string }).code !== '3D000') throw err; // anything but "database does not exist"
  } finally {
    await probe.end().catch(() => undefined);
  }
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount) return false;
    await client.query(`CREATE DATABASE "${name}"`);
    return true;
  } finally {
    await client.end();
  }
}

/** Runs pending migrations; returns their names. */
export async function migrateDatabase(url: string): Promise<string[]> {
  const ds = createDataSource({ url, poolMax: 2, applicationName: 'mentor-zero-migrate' });
  await ds.initialize();
  try {
    const done = await ds.runMigrations({ transaction: 'each' });
    return done.map((m) => m.name);
  } finally {
    await ds.destroy();
  }
}

/** Reverts the last `steps` migrations. */
export async function revertMigrations(url: string, steps = 1): Promise<void> {
  const ds = createDataSource({ url, poolMax: 2, applicationName: 'mentor-zero-migrate' });
  await ds.initialize();
  try {
    for (let i = 0; i < steps; i++) await ds.undoLastMigration({ transaction: 'each' });
  } finally {
    await ds.destroy();
  }
}
