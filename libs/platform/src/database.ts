import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { createDataSource } from '@mz/db';
import type { AppConfig } from '@mz/contracts';
import { APP_CONFIG, SERVICE_NAME } from './tokens';

/** Owns the process's DataSource (one pool per process); closed last on shutdown. */
@Injectable()
export class Database implements OnApplicationShutdown {
  readonly dataSource: DataSource;

  constructor(@Inject(APP_CONFIG) config: AppConfig, @Inject(SERVICE_NAME) service: string) {
    this.dataSource = createDataSource({ url: config.DATABASE_URL, poolMax: config.DATABASE_POOL_MAX, applicationName: `mz-${service}` });
  }

  async connect(): Promise<DataSource> {
    if (!this.dataSource.isInitialized) await this.dataSource.initialize();
    return this.dataSource;
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}
