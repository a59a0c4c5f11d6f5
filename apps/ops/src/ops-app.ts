import 'reflect-metadata';
import { type DynamicModule, type INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import pino from 'pino';
import { parseConfig } from '@mz/contracts';
import { DomainModule, ScheduleDueService } from '@mz/domain';
import { createLogger, PinoNestLogger, PlatformModule } from '@mz/platform';
import type { OpsIo } from './command';

/**
 * What the database commands need: the platform (config, Postgres, Redis, queues, the table
 * repositories) and the domain commands the api and inbound use, plus the scheduler's pass
 * (libs/domain/src/scheduling). No HTTP server, no workers: an application context only.
 */
@Module({})
class OpsModule {
  static register(platform: DynamicModule): DynamicModule {
    return { module: OpsModule, imports: [platform, DomainModule], providers: [ScheduleDueService] };
  }
}

/** Who the audit log names for CLI actions (ADMIN_ACTION and letter events): not a user id. */
export const OPS_ACTOR = { id: 'ops-cli' } as const;

/**
 * Runs `fn` with the services wired as in the services themselves, then closes every pool and
 * connection so the process can exit. Logs go to stderr at `warn` unless LOG_LEVEL is set, so
 * stdout carries only the command's output.
 */
export async function withOpsApp<T>(io: OpsIo, fn: (app: INestApplicationContext) => Promise<T>): Promise<T> {
  const config = parseConfig(io.env);
  const logger = createLogger('ops', io.env.LOG_LEVEL ?? 'warn', pino.destination({ fd: 2, sync: true }));
  const app = await NestFactory.createApplicationContext(OpsModule.register(PlatformModule.forRoot({ service: 'ops', config, logger })), {
    logger: new PinoNestLogger(logger),
    abortOnError: false,
  });
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}
