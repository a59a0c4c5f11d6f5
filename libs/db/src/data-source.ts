import { DataSource } from 'typeorm';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';

export interface DataSourceOptions {
  url: string;
  /** Connection pool size per process. */
  poolMax?: number;
  /** Shown in pg_stat_activity: which service holds a connection. */
  applicationName?: string;
  /** How long a connection above the kept ones may sit idle before it is closed (default 30 s). */
  idleTimeoutMs?: number;
  /**
   * Connections kept open once made, however long they sit idle (default: all of them, up to
   * poolMax). Letters arrive in bursts at the minute; a pool that closed its connections between
   * bursts would reopen them at the slot — a new backend, cold catalog caches and every named
   * statement prepared again, exactly when the drain matters (measured as a slower drain at the slot).
   */
  poolMin?: number;
}

/** The one way to build a DataSource: schema only from migrations, never `synchronize`. */
export function createDataSource(opts: DataSourceOptions): DataSource {
  return new DataSource({
    type: 'postgres',
    url: opts.url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'typeorm_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: false,
    applicationName: opts.applicationName ?? 'mentor-zero',
    extra: { max: opts.poolMax ?? 10, min: opts.poolMin ?? opts.poolMax ?? 10, idleTimeoutMillis: opts.idleTimeoutMs ?? 30_000 },
  });
}
