import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import type { AppConfig } from '@mz/contracts';
import { LetterRepository } from '@mz/db';
import { APP_CONFIG, LOGGER } from './tokens';

/**
 * Keeps the leases of the letters this process is working on alive.
 *
 * A worker's claim sets `lease_until = now() + LEASE_MS` on a `composing`/`sending` row; the
 * sweeper re-drives rows whose lease ran out. One long lease made a killed worker's letters
 * wait for it (10 minutes), one short lease would let the sweeper take over a healthy but slow
 * LLM call. So the lease is short and, while the process is alive, extended every LEASE_MS / 3
 * for every row it holds — one UPDATE per beat for all of them. A lease that already ran out is
 * never revived (the sweeper may have taken the row over), and a row that moved on is untouched.
 * A killed process stops beating: its rows are free between 2/3 and all of LEASE_MS later.
 */
@Injectable()
export class LetterLeases implements OnApplicationShutdown {
  private readonly held = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private beating?: Promise<void>;
  private readonly logger: Logger;

  constructor(
    private readonly letters: LetterRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.logger = logger.child({ component: 'letter-leases' });
  }

  get intervalMs(): number {
    return Math.max(100, Math.floor(this.config.LEASE_MS / 3));
  }

  /** Runs `work` with this letter's lease kept alive until it settles (counted: a letter may be held twice). */
  async hold<T>(letterId: string, work: () => Promise<T>): Promise<T> {
    this.held.set(letterId, (this.held.get(letterId) ?? 0) + 1);
    this.timer ??= setInterval(() => void this.beat(), this.intervalMs).unref();
    try {
      return await work();
    } finally {
      const n = (this.held.get(letterId) ?? 1) - 1;
      if (n > 0) this.held.set(letterId, n);
      else this.held.delete(letterId);
      if (!this.held.size && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    }
  }

  /** One heartbeat: extends every held, still-live lease. Returns how many rows it extended. */
  async beat(): Promise<number> {
    if (this.beating || !this.held.size) return 0;
    let extended = 0;
    this.beating = (async () => {
      try {
        extended = await this.letters.extendLeases([...this.held.keys()], this.config.LEASE_MS);
      } catch (err) {
        // A missed beat is survivable: the lease holds for two more intervals.
        this.logger.warn({ err }, 'lease heartbeat failed');
      }
    })();
    await this.beating;
    this.beating = undefined;
    return extended;
  }

  get holding(): number {
    return this.held.size;
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.beating;
  }
}
