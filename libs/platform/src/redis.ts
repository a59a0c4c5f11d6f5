import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import Redis, { Cluster, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { AppConfig } from '@mz/contracts';
import { APP_CONFIG } from './tokens';

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

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.shared = this.create('shared', { maxRetriesPerRequest: 3, enableOfflineQueue: true });
  }

  get cluster(): boolean {
    return this.config.REDIS_CLUSTER_NODES.length > 0;
  }

  create(name: string, extra: RedisOptions = {}): RedisClient {
    const options: RedisOptions = { connectionName: `mz-${name}`, maxRetriesPerRequest: null, ...extra };
    const conn = this.cluster ? new Cluster(this.config.REDIS_CLUSTER_NODES, this.clusterOptions(options)) : new Redis(this.config.REDIS_URL, options);
    // An 'error' listener keeps a lost connection from crashing the process; ioredis reconnects.
    conn.on('error', () => undefined);
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
