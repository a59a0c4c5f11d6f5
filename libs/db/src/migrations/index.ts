import { InitialSchema1763769600000 } from './1763769600000-initial-schema';

/** Listed explicitly (no globs) so the compiled bundle and the tests run the same set, in order. */
export const MIGRATIONS = [InitialSchema1763769600000];
