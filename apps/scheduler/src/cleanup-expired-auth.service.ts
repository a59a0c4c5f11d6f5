import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Clock } from '@mz/platform';

/** Kept a day past expiry so a just-expired link still explains itself instead of "unknown". */
const KEEP_AFTER_EXPIRY_MS = 24 * 3_600_000;
/** Deleted per statement: short transactions, no long locks on the auth tables. */
const CHUNK = 5000;

/** Maintenance job `cleanup-expired-auth`: deletes login tokens and sessions expired (or revoked) over a day ago. */
@Injectable()
export class CleanupExpiredAuthService {
  constructor(private readonly dataSource: DataSource, private readonly clock: Clock) {}

  async run(now: Date = this.clock.now()): Promise<{ loginTokens: number; sessions: number }> {
    const cutoff = new Date(now.getTime() - KEEP_AFTER_EXPIRY_MS);
    const loginTokens = await this.deleteInChunks(
      `DELETE FROM login_token WHERE id IN (SELECT id FROM login_token WHERE expires_at < $1 LIMIT ${CHUNK})`,
      cutoff,
    );
    const sessions = await this.deleteInChunks(
      `DELETE FROM app_session WHERE id IN (SELECT id FROM app_session WHERE expires_at < $1 OR revoked_at < $1 LIMIT ${CHUNK})`,
      cutoff,
    );
    return { loginTokens, sessions };
  }

  private async deleteInChunks(sql: string, cutoff: Date): Promise<number> {
    let total = 0;
    for (;;) {
      const [, count] = (await this.dataSource.query(sql, [cutoff])) as [unknown, number];
      total += count;
      if (count < CHUNK) return total;
    }
  }
}
