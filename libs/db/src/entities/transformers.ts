import type { ValueTransformer } from 'typeorm';

/** pg returns numeric as string (exactness); our numerics are small settings, so numbers are fine. */
export const decimal: ValueTransformer = {
  to: (v: number | null | undefined) => v,
  from: (v: string | null) => (v === null || v === undefined ? v : Number(v)),
};

/** bigint counters (token counts) fit in a JS number for our ranges. */
export const bigintNumber: ValueTransformer = decimal;
