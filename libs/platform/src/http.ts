import { randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Logger } from 'pino';
import { maskText } from './logger';
import type { MetricsService } from './metrics';
import { pinoHttp } from 'pino-http';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Request logging with a request id (taken from X-Request-Id when well-formed, echoed back). */
export function requestLogging(logger: Logger) {
  return pinoHttp({
    logger,
    genReqId(req: IncomingMessage, res: ServerResponse) {
      const incoming = req.headers['x-request-id'];
      const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
      res.setHeader('X-Request-Id', id);
      return id;
    },
    // Probes and scrapes would drown the log.
    autoLogging: { ignore: (req) => /^\/(health|metrics)/.test(originalUrl(req)) },
    // Only what helps debugging: no headers (cookies, signatures), URLs with tokens masked.
    serializers: {
      req: (req: IncomingMessage & { id?: unknown; raw?: IncomingMessage }) => ({ id: req.id, method: req.method, url: maskText(originalUrl(req.raw ?? req)) }),
      res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
    },
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
  });
}

function originalUrl(req: IncomingMessage): string {
  return (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '';
}

/** Buckets for HTTP answers: most in milliseconds, a slow export or login a few seconds. */
export const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The label a request is counted under: the matched route's pattern (`/api/letters/:id`), never
 * the raw path — ids and tokens in paths would make one series per request. A mounted router's
 * prefix is kept (Bull Board's `/admin/queues/*`); anything no route matched shares one label.
 */
export function routeLabel(req: IncomingMessage): string {
  const r = req as IncomingMessage & { route?: { path?: unknown }; baseUrl?: string };
  const base = r.baseUrl ?? '';
  if (r.route && typeof r.route.path === 'string') return `${base}${r.route.path}` || '/';
  if (base) return `${base}/*`;
  return 'unmatched';
}

/**
 * `mz_http_request_duration_seconds{method,route,status}` for every service (the Grafana "HTTP
 * p95 latency by route" and "HTTP 5xx" panels). Installed once, by startService, ahead of every
 * other middleware so static files and mounted routers (Bull Board) are measured too.
 */
export function requestMetrics(metrics: MetricsService) {
  const duration = metrics.histogram('mz_http_request_duration_seconds', 'HTTP request duration by method, route pattern and status', ['method', 'route', 'status'], HTTP_BUCKETS);
  return (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    const started = process.hrtime.bigint();
    // 'close' also fires when the client goes away mid-answer, which 'finish' would never count.
    res.once('close', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      duration.observe({ method: req.method ?? 'GET', route: routeLabel(req), status: String(res.statusCode) }, seconds);
    });
    next();
  };
}

/**
 * The answer to a body parser's error (body-parser's http-errors), in the api's error shape
 * `{statusCode, error, message}`: 413 too large, 415 a Content-Encoding or charset we do not
 * read, 400 otherwise (invalid JSON, a truncated body). Never the parser's own message.
 */
export function bodyReadError(err: unknown): { statusCode: 400 | 413 | 415; error: string; message: string } {
  const { status, type } = (err ?? {}) as { status?: number; type?: string };
  const statusCode = status === 413 || status === 415 ? status : 400;
  const message = statusCode === 413 ? 'request body too large'
    : statusCode === 415 ? (type === 'charset.unsupported' ? 'unsupported charset' : 'unsupported Content-Encoding')
    : type === 'entity.parse.failed' ? 'request body is not valid JSON' : 'could not read the request body';
  return { statusCode, error: STATUS_CODES[statusCode]!, message };
}

/**
 * Express error middleware for the body parsers before it: their errors (a body over the limit,
 * invalid JSON) answer in the api's error shape instead of reaching Nest's default handler, which
 * drops `error`. The rest of the body is drained so the client reads the answer.
 */
export function bodyParserErrors() {
  return (err: unknown, req: Request, res: Response, next: NextFunction): void => {
    if (!(err as { type?: unknown })?.type || typeof (err as { status?: unknown }).status !== 'number') return next(err);
    refuseBody(err, req, res);
  };
}

/** Answers a body parser's error (bodyReadError) after draining the rest of the body. */
function refuseBody(err: unknown, req: Request, res: Response): void {
  const answer = bodyReadError(err);
  req.resume();
  res.status(answer.statusCode).json(answer);
}

/**
 * Reads a request body as raw bytes (what a signature is over, or what the handler decodes by
 * media type), whatever the Content-Type, capped at `limit` bytes and never inflated (a
 * compressed body would be signed or checked as compressed bytes we do not keep). Parser errors
 * become JSON answers (bodyReadError) — and the rest of the body is drained so the client reads
 * the answer instead of a reset connection.
 */
export function rawBodyReader(limit: number) {
  const parse = express.raw({ type: () => true, limit, inflate: false });
  return (req: Request, res: Response, next: NextFunction): void => {
    parse(req, res, (err?: unknown) => {
      if (!err) return next();
      refuseBody(err, req, res);
    });
  };
}
