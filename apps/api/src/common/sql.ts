import type { EntityManager } from 'typeorm';

/**
 * Rows of an `UPDATE … RETURNING` / `DELETE … RETURNING`. TypeORM's postgres driver answers those
 * commands with `[rows, rowCount]` instead of the rows, unlike SELECT and INSERT.
 */
export async function updateReturning<T>(m: EntityManager, sql: string, params: unknown[]): Promise<T[]> {
  const result: unknown = await m.query(sql, params);
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0] as T[];
  return result as T[];
}
