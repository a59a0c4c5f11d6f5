/**
 * One value read from the database and reused for `ttlMs` (runtime settings, the active footer):
 * console edits reach the hot path within that window instead of costing a query per letter.
 * Concurrent callers share one read, and a failed read is not kept. `ttlMs` is checked on every
 * `get()`, so lowering it takes effect at once (tests pin it to 0 or to a long window).
 */
export class ReadCache<T> {
  private entry: { value: Promise<T>; readAt: number } | null = null;

  constructor(private readonly read: () => Promise<T>, public ttlMs: number) {}

  get(): Promise<T> {
    const now = performance.now();
    if (this.entry && now - this.entry.readAt < this.ttlMs) return this.entry.value;
    const entry = { value: this.read(), readAt: now };
    this.entry = entry;
    entry.value.catch(() => {
      if (this.entry === entry) this.entry = null;
    });
    return entry.value;
  }
}
