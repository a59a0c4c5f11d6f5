/** How a GroupCommit forms its batches. */
export interface GroupCommitOptions {
  /** Most inputs in one statement (bounded: one statement's locks and parameters). Default 50. */
  maxBatch?: number;
  /**
   * Batches running at once. One (the default) is enough when the batch statement never waits on
   * a row lock: the letter statements lock their rows with SKIP LOCKED and hand a row someone else
   * holds back to its caller, which runs the single-letter statement and waits alone.
   */
  maxInFlight?: number;
  /**
   * How long a call that finds nothing in flight waits for company before its batch starts, ms
   * (0, the default: it starts at once). A full batch starts without waiting, and calls that
   * queued behind a running batch go as soon as it returns.
   */
  lingerMs?: number;
}

/**
 * Group commit for the hot single-letter statements (docs/architecture.md §3.6): calls that arrive
 * while a batch of the same statement is in flight — or, with `lingerMs`, within that long of the
 * first call — go together, as one statement and one commit. Under load a batch holds what arrived
 * during one round trip (plus the linger), so the round trips, statement overhead and commits per
 * letter fall as the rate rises. Each caller still gets its own result (or the batch's error), so
 * a job's outcome stays its own.
 *
 * A batch never holds two calls with the same key (the same letter twice would see one result
 * twice): a second call for a key already waiting joins the next batch.
 */
export class GroupCommit<I, O> {
  private readonly waiting: { input: I; key: string; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  private inFlight = 0;
  /** The pending start of a batch that waits for company (lingerMs). */
  private lingering: NodeJS.Timeout | undefined;
  private readonly maxBatch: number;
  private readonly maxInFlight: number;
  private readonly lingerMs: number;

  /**
   * @param run one statement for the whole batch; returns one output per input, in input order
   * @param key identifies what an input writes (a letter id)
   */
  constructor(
    private readonly run: (inputs: I[]) => Promise<O[]>,
    private readonly key: (input: I) => string,
    { maxBatch = 50, maxInFlight = 1, lingerMs = 0 }: GroupCommitOptions = {},
  ) {
    this.maxBatch = maxBatch;
    this.maxInFlight = maxInFlight;
    this.lingerMs = lingerMs;
  }

  call(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.waiting.push({ input, key: this.key(input), resolve, reject });
      this.pump();
    });
  }

  /** A new call: start a batch now, or once the linger is over or the batch is full. */
  private pump(): void {
    if (this.lingerMs > 0 && this.inFlight === 0 && this.waiting.length < this.maxBatch) {
      this.lingering ??= setTimeout(() => {
        this.lingering = undefined;
        this.flush();
      }, this.lingerMs);
      return;
    }
    clearTimeout(this.lingering);
    this.lingering = undefined;
    this.flush();
  }

  /** Starts batches of what is waiting, up to maxInFlight at once. */
  private flush(): void {
    while (this.inFlight < this.maxInFlight && this.waiting.length > 0) {
      const batch = this.take();
      this.inFlight++;
      this.run(batch.map((b) => b.input))
        .then(
          (outputs) => {
            if (outputs.length !== batch.length) throw new Error(`group commit: ${outputs.length} results for ${batch.length} inputs`);
            batch.forEach((b, i) => b.resolve(outputs[i]));
          },
        )
        .catch((err: unknown) => batch.forEach((b) => b.reject(err)))
        .finally(() => {
          this.inFlight--;
          this.flush();
        });
    }
  }

  /** The oldest waiting calls, at most maxBatch, one per key; the rest keep their order. */
  private take(): typeof this.waiting {
    const batch: typeof this.waiting = [];
    const keys = new Set<string>();
    for (let i = 0; i < this.waiting.length && batch.length < this.maxBatch; ) {
      const w = this.waiting[i];
      if (keys.has(w.key)) {
        i++;
        continue;
      }
      keys.add(w.key);
      batch.push(w);
      this.waiting.splice(i, 1);
    }
    return batch;
  }
}
