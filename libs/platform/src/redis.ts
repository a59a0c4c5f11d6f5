import { Inject, Injectable, OnApplicationShutdown, Optional } from '@nestjs/common';
import type { Socket } from 'node:net';
import Redis, { Cluster, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { AppConfig } from '@mz/contracts';
import { coalesceWritesPerTurn } from './coalesce-writes';
import { APP_CONFIG, LOGGER } from './tokens';

/** While a connection keeps failing (every reconnect attempt emits 'error'), one log line per this long. */
export const REPEATED_ERROR_LOG_MS = 30_000;

/**
 * An 'error' listener that logs the first error and then at most one per REPEATED_ERROR_LOG_MS
 * (with how many were not logged). A listener must exist — an unhandled 'error' event kills the
 * process — but a silent one hides a Redis outage from the logs.
 */
export function throttledErrorLog(logger: Logger | undefined, message: string, context: Record<string, unknown>): (err: Error) => void {
  let last = -Infinity;
  let quiet = 0;
  return (err: Error) => {
    const now = Date.now();
    if (now - last < REPEATED_ERROR_LOG_MS) {
      quiet++;
      return;
    }
    logger?.warn({ ...context, error: err?.message, suppressedSinceLast: quiet }, message);
    last = now;
    quiet = 0;
  };
}

/** A single Redis or a Redis Cluster client: BullMQ, the rate limiters and health take either. */
export type RedisClient = Redis | Cluster;

/**
 * The options REDIS_URL carries besides its host: credentials, TLS and (single node only) the
 * database number. On a cluster they apply to every node the client discovers.
 */
export function redisUrlOptions(url: string): RedisOptions {
  const u = new URL(url);
  const opts: RedisOptions = {};
  if (u.username) opts.username = decodeURIComponent(u.username);
  if (u.password) opts.password = decodeURIComponent(u.password);
  if (u.protocol === 'rediss:') opts.tls = {};
  return opts;
}

/**
 * Connections to a single Redis (`REDIS_URL`) or a Redis Cluster (`REDIS_CLUSTER_NODES`, with the
 * credentials and TLS of `REDIS_URL`). Producers share one connection; BullMQ workers need their
 * own blocking connection with `maxRetriesPerRequest: null` (BullMQ's production guide).
 */
@Injectable()
export class RedisConnections implements OnApplicationShutdown {
  private readonly all: RedisClient[] = [];
  readonly shared: RedisClient;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig, @Optional() @Inject(LOGGER) private readonly logger?: Logger) {
    this.shared = this.create('shared', { maxRetriesPerRequest: 3, enableOfflineQueue: true });
  }

  get cluster(): boolean {
    return this.config.REDIS_CLUSTER_NODES.length > 0;
  }

  create(name: string, extra: RedisOptions = {}): RedisClient {
    const options: RedisOptions = { connectionName: `mz-${name}`, maxRetriesPerRequest: null, ...extra };
    const conn = this.cluster ? new Cluster(this.config.REDIS_CLUSTER_NODES, this.clusterOptions(options)) : new Redis(this.config.REDIS_URL, options);
    // The listener keeps a lost connection from crashing the process; ioredis reconnects.
    conn.on('error', throttledErrorLog(this.logger, 'Redis connection error; reconnecting', { connection: name }));
    // Commands issued in one event-loop turn leave in one write (docs/architecture.md §3.6): each
    // (re)connection gets a new socket, and a cluster a client per node.
    if (conn instanceof Cluster) conn.on('+node', (node: Redis) => coalesceOnConnect(node));
    else coalesceOnConnect(conn);
    this.all.push(conn);
    return conn;
  }

  /** For BullMQ workers and QueueEvents (blocking commands). */
  forWorker(name: string): RedisClient {
    return this.create(name, { maxRetriesPerRequest: null });
  }

  private clusterOptions(options: RedisOptions): ClusterOptions {
    const redisOptions = { ...redisUrlOptions(this.config.REDIS_URL), ...options };
    return {
      redisOptions,
      // Wait for CLUSTER INFO to say ok before commands flow; queue commands while slots move.
      enableReadyCheck: true,
      enableOfflineQueue: options.enableOfflineQueue ?? true,
      // A failover answers MOVED/CLUSTERDOWN for a few seconds: retry rather than fail the command.
      retryDelayOnClusterDown: 200,
      retryDelayOnFailover: 200,
      retryDelayOnTryAgain: 200,
      slotsRefreshTimeout: 2000,
      // Managed clusters behind TLS (ElastiCache, Memorystore) announce IPs whose certificate names
      // the configuration endpoint: connect to the address as given instead of re-resolving it.
      ...(redisOptions.tls ? { dnsLookup: (address: string, callback: (err: null, address: string) => void) => callback(null, address) } : {}),
      clusterRetryStrategy: (times: number) => Math.min(100 * 2 ** times, 5000),
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.all.map((c) => c.quit().catch(() => c.disconnect())));
  }
}

function coalesceOnConnect(conn: Redis): void {
  conn.on('connect', () => coalesceWritesPerTurn(conn.stream as Socket));
}
