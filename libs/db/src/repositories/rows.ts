import type { DataSource, EntityManager } from 'typeorm';

/** Where a repository method runs: the pool (its own implicit transaction) or the caller's transaction. */
export type Queryable = DataSource | EntityManager;

/**
 * The rows of any `query()` result. TypeORM's postgres driver answers `UPDATE … RETURNING` and
 * `DELETE … RETURNING` with `[rows, rowCount]` instead of the rows, unlike SELECT and INSERT.
 */
export function rowsOf<T = Record<string, unknown>>(result: unknown): T[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0] as T[];
  return Array.isArray(result) ? (result as T[]) : [];
}

/** `query()` that always returns the rows (see rowsOf). */
export async function queryRows<T = Record<string, unknown>>(q: Queryable, sql: string, params: unknown[] = []): Promise<T[]> {
  return rowsOf<T>(await q.query(sql, params));
}

/** Escapes LIKE wildcards so a search for "a_b%" matches those characters literally (console and CLI searches). */
export const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);
