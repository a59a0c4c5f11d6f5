import type { DataSource, EntityManager } from 'typeorm';

/**
 * Named prepared statements for the per-letter hot path.
 *
 * TypeORM's `query()` sends every statement unnamed, so Postgres parses and plans it afresh on
 * each call; for the pipeline's handful of per-letter statements that planning cost more than
 * running them. A named statement is parsed once per pooled connection (node-pg remembers which
 * names each connection has prepared) and, after a few executions, runs a cached generic plan.
 *
 * Use it only for fixed SQL on hot paths, never for text built at run time. Names are global per
 * connection, so each is registered once per process with one text.
 */
export interface NamedStatement {
  readonly name: string;
  readonly text: string;
}

const registry = new Map<string, string>();

export function namedStatement(name: string, text: string): NamedStatement {
  if (!/^mz_[a-z0-9_]{1,60}$/.test(name)) throw new Error(`named statement "${name}": use mz_ + lowercase letters, digits, underscores`);
  const known = registry.get(name);
  if (known !== undefined && known !== text) throw new Error(`named statement "${name}" is already registered with different SQL`);
  registry.set(name, text);
  return Object.freeze({ name, text });
}

interface PgQueryable {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

/**
 * Runs `stmt` on the DataSource's pool (its own implicit transaction) or, given an EntityManager
 * from `ds.transaction(...)`, on that transaction's connection. Always returns the rows, also for
 * `UPDATE … RETURNING` (where TypeORM's `query()` would return `[rows, count]`).
 */
export async function queryNamed<T = Record<string, unknown>>(target: DataSource | EntityManager, stmt: NamedStatement, values: unknown[]): Promise<T[]> {
  const client = await pgClientOf(target);
  const result = await client.query({ name: stmt.name, text: stmt.text, values });
  return result.rows as T[];
}

async function pgClientOf(target: DataSource | EntityManager): Promise<PgQueryable> {
  if (isEntityManager(target)) {
    const runner = target.queryRunner;
    if (!runner) throw new Error('queryNamed: this EntityManager has no query runner (use the one ds.transaction() passes in)');
    return (await runner.connect()) as PgQueryable;
  }
  // PostgresDriver.master is node-pg's Pool: pool.query() checks a client out and returns it.
  const pool = (target.driver as unknown as { master?: PgQueryable }).master;
  if (!pool) throw new Error('queryNamed: the DataSource is not an initialised postgres DataSource');
  return pool;
}

function isEntityManager(target: DataSource | EntityManager): target is EntityManager {
  // A DataSource owns a driver and a manager; an EntityManager points back at its DataSource.
  return !('driver' in target && 'manager' in target);
}
