import 'reflect-metadata';
import { type DynamicModule, type INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import pino from 'pino';
import { OPS_CLI_ACTOR, parseConfig } from '@mz/contracts';
import { DomainModule, ScheduleDueService } from '@mz/domain';
import { createLogger, PinoNestLogger, PlatformModule, RedisConnections } from '@mz/platform';
import { OpsFailure, type OpsIo } from './command';

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
export const OPS_ACTOR = { id: OPS_CLI_ACTOR } as const;

/**
 * Runs `fn` with the services wired as in the services themselves, then closes every pool and
 * connection so the process can exit. Logs go to stderr at `warn` unless LOG_LEVEL is set, so
 * stdout carries only the command's output.
 */
export async function withOpsApp<T>(io: OpsIo, fn: (app: INestApplicationContext) => Promise<T>): Promise<T> {
  const config = parseConfig(io.env);
  const logger = createLogger('ops', io.env.LOG_LEVEL ?? 'warn', pino.destination({ fd: 2, sync: true }));
  let app: INestApplicationContext;
  try {
    app = await NestFactory.createApplicationContext(OpsModule.register(PlatformModule.forRoot({ service: 'ops', config, logger })), {
      logger: new PinoNestLogger(logger),
      abortOnError: false,
    });
  } catch (err) {
    // Postgres unreachable or refusing us: one line for the operator (main.ts ends the process).
    throw new OpsFailure(`could not start: ${(err as Error).message}`);
  }
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}

const REDIS_CHECK_MS = 5_000;

/**
 * Commands that queue jobs check Redis first: BullMQ waits for a connection without limit (right
 * for a service, which carries on once Redis is back), which would leave the operator looking at
 * a command that never ends. Unreachable within 5 s: exit 1 before anything changed.
 */
export async function requireRedis(app: INestApplicationContext): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new OpsFailure(`Redis is not reachable (no answer within ${REDIS_CHECK_MS / 1000} s); nothing was changed`)), REDIS_CHECK_MS);
  });
  try {
    await Promise.race([app.get(RedisConnections).shared.ping(), timeout]);
  } catch (err) {
    if (err instanceof OpsFailure) throw err;
    throw new OpsFailure(`Redis is not reachable (${(err as Error).message}); nothing was changed`);
  } finally {
    clearTimeout(timer);
  }
}
