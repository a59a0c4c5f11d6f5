import { Controller, Get, HttpException, HttpStatus, Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '@mz/contracts';
import type { Cluster } from 'ioredis';
import { Database } from './database';
import { RedisConnections } from './redis';
import { APP_CONFIG } from './tokens';

/** Tracks whether the process is shutting down: readiness turns 503 so traffic drains first. */
@Injectable()
export class Lifecycle {
  shuttingDown = false;
}

type Check = { ok: boolean; error?: string; detail?: string };

@Injectable()
export class HealthService {
  private migrationsCurrent = false;

  constructor(
    private readonly db: Database,
    private readonly redis: RedisConnections,
    private readonly lifecycle: Lifecycle,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** INSTANCE_ID when given (e.g. by `npm start`, to tell its own children from another stack on the same ports). */
  get instance(): string | undefined {
    return this.config.INSTANCE_ID;
  }

  async readiness(): Promise<{ ok: boolean; instance?: string; checks: Record<string, Check> }> {
    const [database, redis, migrations] = await Promise.all([
      this.check(async () => {
        await this.db.dataSource.query('SELECT 1');
      }),
      this.check(() => this.redisCheck()),
      this.check(async () => {
        // Once current, stays current for this process (new migrations arrive with a new deploy).
        if (this.migrationsCurrent) return;
        if (await this.db.dataSource.showMigrations()) throw new Error('pending migrations: run the migrate job');
        this.migrationsCurrent = true;
      }),
    ]);
    const shutdown: Check = this.lifecycle.shuttingDown ? { ok: false, error: 'shutting down' } : { ok: true };
    const checks = { database, redis, migrations, shutdown };
    return { ok: Object.values(checks).every((c) => c.ok), instance: this.instance, checks };
  }

  /**
   * Single node: PING. Cluster: the state the cluster reports of itself (CLUSTER INFO) — `fail`
   * while a slot has no reachable master, e.g. during a failover — with the masters it counts.
   */
  private async redisCheck(): Promise<string | void> {
    const redis = this.redis.shared;
    if (!this.redis.cluster) {
      if ((await redis.ping()) !== 'PONG') throw new Error('unexpected PING reply');
      return;
    }
    const info = String(await (redis as Cluster).cluster('INFO'));
    const field = (name: string) => new RegExp(`^${name}:(\\S+)`, 'm').exec(info)?.[1] ?? '?';
    const detail = `cluster_state:${field('cluster_state')} masters:${field('cluster_size')} slots_ok:${field('cluster_slots_ok')}`;
    if (field('cluster_state') !== 'ok') throw new Error(detail);
    return detail;
  }

  private async check(fn: () => Promise<string | void>, timeoutMs = 2000): Promise<Check> {
    try {
      const detail = await Promise.race([fn(), new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timed out')), timeoutMs).unref())]);
      return detail ? { ok: true, detail } : { ok: true };
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    }
  }
}

@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get('live')
  live() {
    return { ok: true, instance: this.health.instance };
  }

  @Get('ready')
  async ready() {
    const result = await this.health.readiness();
    if (!result.ok) throw new HttpException(result, HttpStatus.SERVICE_UNAVAILABLE);
    return result;
  }
}
