import type { LoggerService } from '@nestjs/common';
import { trace } from '@opentelemetry/api';
import pino, { type Logger } from 'pino';

/**
 * JSON logs with pino. Personal data and secrets never reach the log: structured fields with
 * sensitive names are censored, and free-text messages have e-mail addresses and token-bearing
 * URL segments masked.
 */
const REDACT_PATHS = [
  'email', '*.email', 'to', '*.to', 'from', '*.from', 'address', '*.address',
  'token', '*.token', 'password', '*.password', 'secret', '*.secret', 'apiKey', '*.apiKey',
  'req.headers.cookie', 'req.headers.authorization', 'req.headers["x-mz-signature"]', 'res.headers["set-cookie"]',
];

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
// /login/<token>, /u/<token>, ?token=… — tokens are long url-safe strings.
const TOKEN_IN_URL = /(\/(?:login|u|auth\/confirm)\/|[?&](?:token|t)=)[A-Za-z0-9._~-]{12,}/g;

export function maskText(s: string): string {
  return s.replace(EMAIL, '[email]').replace(TOKEN_IN_URL, '$1[token]');
}

/** trace_id and span_id of the span active where a line is logged, so a log line finds its trace (docs/architecture.md §6). */
export function traceIdsMixin(): { trace_id?: string; span_id?: string } {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}

/** `traceIds`: add the active span's ids to each line; only when tracing is on, so a line costs nothing more when it is off. */
export function createLogger(service: string, level: string = 'info', destination?: pino.DestinationStream, opts: { traceIds?: boolean } = {}): Logger {
  return pino({
    level,
    base: { service },
    ...(opts.traceIds ? { mixin: traceIdsMixin } : {}),
    messageKey: 'msg',
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    formatters: { level: (label) => ({ level: label }) },
    serializers: {
      err: pino.stdSerializers.err,
      req: (req: { id?: unknown; method?: string; url?: string }) => ({ id: req.id, method: req.method, url: req.url ? maskText(req.url) : undefined }),
    },
    hooks: {
      logMethod(args, method) {
        // Mask free-text arguments (messages and interpolations).
        const masked = args.map((a) => (typeof a === 'string' ? maskText(a) : a)) as Parameters<typeof method>;
        return method.apply(this, masked);
      },
    },
  }, destination ?? pino.destination({ sync: false }));
}

/** Nest's logger interface over pino, so framework messages are JSON too. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, context?: string) { this.write('info', message, context); }
  error(message: unknown, trace?: string, context?: string) { this.write('error', message, context, trace); }
  warn(message: unknown, context?: string) { this.write('warn', message, context); }
  debug(message: unknown, context?: string) { this.write('debug', message, context); }
  verbose(message: unknown, context?: string) { this.write('trace', message, context); }
  fatal(message: unknown, context?: string) { this.write('fatal', message, context); }

  private write(level: pino.Level, message: unknown, context?: string, trace?: string) {
    if (message instanceof Error) this.logger[level]({ context, err: message }, message.message);
    else if (typeof message === 'object' && message !== null) this.logger[level]({ context, ...message });
    else this.logger[level]({ context, ...(trace ? { stack: trace } : {}) }, String(message));
  }
}
