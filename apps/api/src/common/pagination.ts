import { z } from 'zod';

/** `?page=1&pageSize=20` — 1-based pages, at most 100 rows per page. */
export const PageQuery = z.object({
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(100).default(20),
});
export type PageParams = z.infer<typeof PageQuery>;

export interface Page<T> { items: T[]; page: number; pageSize: number; total: number }

export const pageSchema = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), page: z.number().int(), pageSize: z.number().int(), total: z.number().int() });

export const offsetOf = (p: PageParams) => (p.page - 1) * p.pageSize;

// Shared with the operator CLI's searches; the one definition is in libs/db (docs/architecture.md §14).
export { likeEscape } from '@mz/db';
