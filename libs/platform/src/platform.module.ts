import { DynamicModule, Global, MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { AppConfig } from '@mz/contracts';
import { AppConfigRepository, FooterRepository, InboundMessageRepository, LetterRepository, ProgressRepository, ProviderEventRepository, SuppressionRepository } from '@mz/db';
import { Clock } from './clock';
import { Database } from './database';
import { HealthController, HealthService, Lifecycle } from './health';
import { LetterLeases } from './letter-leases';
import { requestLogging } from './http';
import { MetricsController, MetricsService } from './metrics';
import { QueueService, WorkerRegistry } from './queue';
import { RedisConnections } from './redis';
import { APP_CONFIG, LOGGER, SERVICE_NAME } from './tokens';
import type { Logger } from 'pino';

/** The tables' owners (libs/db/src/repositories): one instance per process, over its DataSource. */
const REPOSITORIES = [LetterRepository, SuppressionRepository, ProgressRepository, InboundMessageRepository, AppConfigRepository, FooterRepository, ProviderEventRepository];

export interface PlatformOptions { service: string; config: AppConfig; logger: Logger }

/**
 * What every service gets: validated config, logger, Postgres, Redis, queues and workers,
 * health and metrics endpoints, request logging with request ids.
 */
@Global()
@Module({})
export class PlatformModule implements NestModule {
  private static logger?: Logger;

  static forRoot(opts: PlatformOptions): DynamicModule {
    PlatformModule.logger = opts.logger;
    return {
      module: PlatformModule,
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: APP_CONFIG, useValue: opts.config },
        { provide: SERVICE_NAME, useValue: opts.service },
        { provide: LOGGER, useValue: opts.logger },
        Clock, Database, RedisConnections, Lifecycle, HealthService, MetricsService, QueueService, WorkerRegistry, LetterLeases,
        { provide: DataSource, useFactory: (db: Database) => db.connect(), inject: [Database] },
        ...REPOSITORIES,
      ],
      exports: [APP_CONFIG, SERVICE_NAME, LOGGER, Clock, Database, DataSource, RedisConnections, Lifecycle, MetricsService, QueueService, WorkerRegistry, LetterLeases, ...REPOSITORIES],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    if (PlatformModule.logger) consumer.apply(requestLogging(PlatformModule.logger)).forRoutes('*path');
  }
}
