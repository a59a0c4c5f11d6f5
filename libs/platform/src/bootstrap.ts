import 'reflect-metadata';
import type { DynamicModule, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Logger } from 'pino';
import { type AppConfig, ConfigError, parseConfig } from '@mz/contracts';
import { Lifecycle } from './health';
import { requestMetrics } from './http';
import { createLogger, PinoNestLogger } from './logger';
import { MetricsService } from './metrics';
import { PlatformModule } from './platform.module';
import { startTracing, tracingEnabled } from './tracing';

export interface ServiceDefinition {
  service: 'api' | 'scheduler' | 'composer' | 'mailer' | 'inbound';
  /** docs/architecture.md §6 ports; PORT overrides. */
  defaultPort: number;
  /** The app's root module, given the platform module to import. */
  rootModule: (platform: DynamicModule) => DynamicModule;
  /** App-specific HTTP setup (body parsers, helmet, static files, Swagger) before listen. */
  setup?: (app: NestExpressApplication, config: AppConfig, logger: Logger) => void | Promise<void>;
}

export interface RunningService {
  app: INestApplication;
  config: AppConfig;
  logger: Logger;
  url: string;
  /** Graceful stop: readiness goes 503, workers finish running jobs (bounded), pools close. */
  close(): Promise<void>;
}

/** Starts one service. Throws ConfigError (naming every bad variable) before anything connects. */
export async function startService(def: ServiceDefinition, env: NodeJS.ProcessEnv = process.env): Promise<RunningService> {
  const config = parseConfig(env);
  // Before anything else so the first spans and log lines already see it; off without an endpoint (docs/architecture.md §6).
  const tracing = await startTracing({ service: def.service, config });
  const logger = createLogger(def.service, config.LOG_LEVEL, undefined, { traceIds: tracingEnabled() });
  // The collector's host only: a URL may carry credentials.
  if (tracing) logger.info({ collector: hostOf(config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? config.OTEL_EXPORTER_OTLP_ENDPOINT), sampleRatio: config.OTEL_TRACES_SAMPLER_ARG }, 'tracing on');
  let app: NestExpressApplication;
  try {
    app = await NestFactory.create<NestExpressApplication>(
      def.rootModule(PlatformModule.forRoot({ service: def.service, config, logger })),
      { logger: new PinoNestLogger(logger), bodyParser: false },
    );
  } catch (err) {
    await tracing?.shutdown().catch(() => undefined);
    throw err;
  }
  // Whose X-Forwarded-For to believe (req.ip, per-IP limits, session records): only TRUST_PROXY's.
  app.set('trust proxy', config.TRUST_PROXY);
  app.use(requestMetrics(app.get(MetricsService)));
  if (def.setup) await def.setup(app, config, logger);
  const port = config.PORT ?? def.defaultPort;
  await app.listen(port, '0.0.0.0');
  const address = app.getHttpServer().address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}`;
  logger.info({ url }, `${def.service} listening`);
  let closing: Promise<void> | undefined;
  return {
    app, config, logger, url,
    close() {
      closing ??= (async () => {
        app.get(Lifecycle).shuttingDown = true;
        try {
          await app.close();
        } finally {
          // Last: the spans of the jobs that finished during the close are flushed too.
          await tracing?.shutdown().catch((err: unknown) => logger.warn({ err }, 'could not flush the last spans'));
        }
      })();
      return closing;
    },
  };
}

function hostOf(u: string | undefined): string | undefined {
  return u ? new URL(u).host : undefined;
}

/**
 * The `main.ts` of every service: start, and on SIGTERM/SIGINT shut down gracefully and exit 0.
 * A bad configuration prints the problems and exits 1 without a stack trace.
 */
export function runService(def: ServiceDefinition): void {
  startService(def).then(
    (svc) => {
      const stop = (signal: string) => {
        svc.logger.info({ signal }, 'shutting down');
        // Hard stop only if a close hook hangs beyond the workers' own bounded wait.
        setTimeout(() => {
          svc.logger.error('shutdown did not finish in time');
          process.exit(1);
        }, svc.config.SHUTDOWN_TIMEOUT_MS + 10_000).unref();
        svc.close().then(
          () => process.exit(0),
          (err) => {
            svc.logger.error({ err }, 'error during shutdown');
            process.exit(1);
          },
        );
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
      process.on('unhandledRejection', (err) => svc.logger.error({ err }, 'unhandled rejection'));
    },
    (err: unknown) => {
      if (err instanceof ConfigError) console.error(`${def.service}: ${err.message}`);
      else console.error(`${def.service}: failed to start:`, err);
      process.exit(1);
    },
  );
}
