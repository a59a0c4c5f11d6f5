import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import Redis, { type RedisOptions } from 'ioredis';
import type { AppConfig } from '@mz/contracts';
import { APP_CONFIG } from './tokens';

/**
 * Redis connections. Producers share one connection that fails fast; BullMQ workers need their
 * own blocking connection with `maxRetriesPerRequest: null` (BullMQ's production guide).
 */
@Injectable()
export class RedisConnections implements OnApplicationShutdown {
  private readonly all: Redis[] = [];
  readonly shared: Redis;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.shared = this.create('shared', { maxRetriesPerRequest: 3, enableOfflineQueue: true });
  }

  create(name: string, extra: RedisOptions = {}): Redis {
    const conn = new Redis(this.config.REDIS_URL, { connectionName: `mz-${name}`, maxRetriesPerRequest: null, ...extra });
    // An 'error' listener keeps a lost connection from crashing the process; ioredis reconnects.
    conn.on('error', () => undefined);
    this.all.push(conn);
    return conn;
  }

  /** For BullMQ workers and QueueEvents (blocking commands). */
  forWorker(name: string): Redis {
    return this.create(name, { maxRetriesPerRequest: null });
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.all.map((c) => c.quit().catch(() => c.disconnect())));
  }
}
