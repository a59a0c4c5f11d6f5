import { DataSource } from 'typeorm';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';

export interface DataSourceOptions {
  url: string;
  /** Connection pool size per process. */
  poolMax?: number;
  /** Shown in pg_stat_activity: which service holds a connection. */
  applicationName?: string;
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
    extra: { max: opts.poolMax ?? 10, idleTimeoutMillis: 30_000 },
  });
}
