/**
 * A real Redis Cluster for one test file: six `redis-server --cluster-enabled yes` processes on
 * free loopback ports (3 masters, 3 replicas, made by `redis-cli --cluster create`), each in a
 * temp dir of its own for nodes.conf. `stop()` kills them and removes the dirs, so nothing is
 * left running. Failovers in tests are manual (CLUSTER FAILOVER); the node timeout (5 s) is long
 * enough that a loaded machine does not trigger automatic ones.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { portBelowEphemeral } from './services';

const run = promisify(execFile);

export interface ClusterNode { host: string; port: number }

export interface TestRedisCluster {
  nodes: ClusterNode[];
  /** `REDIS_CLUSTER_NODES` for a service under test. */
  seeds: string;
  /** A plain connection to one node (for CLUSTER commands aimed at that node). */
  node(port: number): Redis;
  /** The master and its replica currently serving the slot of `key`. */
  shardOf(key: string): Promise<{ master: ClusterNode; replica: ClusterNode }>;
  /** `CLUSTER FAILOVER` on the replica of the master serving `key`; resolves once it is master. */
  failover(key: string): Promise<{ from: ClusterNode; to: ClusterNode }>;
  /** Waits until every node reports cluster_state:ok. */
  waitOk(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** A free port whose cluster-bus port (port + 10000) is free too, both below the ephemeral range. */
async function freeClusterPort(taken: Set<number>): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = portBelowEphemeral(10_001, 5_000);
    if (taken.has(port) || taken.has(port + 10000)) continue;
    if ((await portFree(port)) && (await portFree(port + 10000))) {
      taken.add(port);
      taken.add(port + 10000);
      return port;
    }
  }
  throw new Error('no free port pair for a Redis Cluster node');
}

async function waitFor<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

export async function startRedisCluster(): Promise<TestRedisCluster> {
  const taken = new Set<number>();
  const ports: number[] = [];
  for (let i = 0; i < 6; i++) ports.push(await freeClusterPort(taken));
  const dirs: string[] = [];
  const procs: ChildProcess[] = [];
  const clients = new Map<number, Redis>();
  const host = '127.0.0.1';

  const node = (port: number): Redis => {
    let c = clients.get(port);
    if (!c) {
      c = new Redis({ host, port, lazyConnect: false, maxRetriesPerRequest: 1, retryStrategy: () => null });
      c.on('error', () => undefined);
      clients.set(port, c);
    }
    return c;
  };

  const stop = async () => {
    await Promise.all([...clients.values()].map((c) => c.quit().catch(() => c.disconnect())));
    clients.clear();
    await Promise.all(
      procs.map((p) => new Promise<void>((resolve) => {
        if (p.exitCode !== null || p.signalCode !== null) return resolve();
        p.once('exit', () => resolve());
        p.kill('SIGKILL');
      })),
    );
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  };

  try {
    for (const port of ports) {
      const dir = mkdtempSync(join(tmpdir(), `mz-redis-cluster-${port}-`));
      dirs.push(dir);
      const p = spawn('redis-server', [
        '--port', String(port), '--bind', host, '--dir', dir,
        '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '5000',
        '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction', '--protected-mode', 'no',
      ], { stdio: 'ignore' });
      procs.push(p);
    }
    // A probe per attempt: a client that found the port closed stays closed (no retry strategy).
    const probe = async (port: number) => {
      const c = new Redis({ host, port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      c.on('error', () => undefined);
      try {
        await c.connect();
        return (await c.ping()) === 'PONG' ? true : undefined;
      } finally {
        c.disconnect();
      }
    };
    await Promise.all(ports.map((port) => waitFor(`redis-server on ${port}`, 10_000, () => probe(port))));
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `${host}:${p}`), '--cluster-replicas', '1', '--cluster-yes'], { timeout: 30_000 });

    const waitOk = async (timeoutMs = 20_000) => {
      await Promise.all(ports.map((port) => waitFor(`cluster_state:ok on ${port}`, timeoutMs, async () => (/cluster_state:ok/.test(String(await node(port).cluster('INFO'))) ? true : undefined))));
    };
    await waitOk();
    // Replicas attach after `--cluster create` returns: wait until every node sees three in sync.
    await Promise.all(ports.map((port) => waitFor(`three replicas seen from ${port}`, 20_000, async () => {
      const lines = String(await node(port).cluster('NODES')).trim().split('\n').map((l) => l.split(' '));
      return lines.filter((f) => f[2].includes('slave') && f[3] !== '-' && f[7] === 'connected').length === 3 ? true : undefined;
    })));
    await Promise.all(ports.map((port) => waitFor(`replica link up on ${port}`, 20_000, async () => {
      const repl = await node(port).info('replication');
      return /role:master/.test(repl) || /master_link_status:up/.test(repl) ? true : undefined;
    })));

    const shardOfNow = async (key: string) => {
      const slot = Number(await node(ports[0]).cluster('KEYSLOT', key));
      // CLUSTER SHARDS is 7.0+; CLUSTER NODES is older and parses simply.
      const lines = String(await node(ports[0]).cluster('NODES')).trim().split('\n').map((l) => l.split(' '));
      const master = lines.find((f) => f[2].includes('master') && !f[2].includes('fail') && f.slice(8).some((r) => {
        const [a, b] = r.split('-').map(Number);
        return b === undefined || Number.isNaN(b) ? a === slot : a <= slot && slot <= b;
      }));
      if (!master) throw new Error(`no master serves slot ${slot}`);
      const replica = lines.find((f) => f[2].includes('slave') && f[3] === master[0]);
      if (!replica) throw new Error(`master ${master[1]} has no replica`);
      const addr = (f: string[]) => ({ host, port: Number(f[1].split('@')[0].split(':')[1]) });
      return { master: addr(master), replica: addr(replica) };
    };
    // The view settles within a gossip round after a promotion: ask again until it has both.
    const shardOf = (key: string) => waitFor(`the shard serving ${key}`, 15_000, () => shardOfNow(key));

    return {
      nodes: ports.map((port) => ({ host, port })),
      seeds: ports.slice(0, 3).map((p) => `${host}:${p}`).join(','),
      node,
      shardOf,
      async failover(key: string) {
        const { master, replica } = await shardOf(key);
        await node(replica.port).cluster('FAILOVER');
        await waitFor(`replica ${replica.port} promoted`, 20_000, async () => (/role:master/.test(await node(replica.port).info('replication')) ? true : undefined));
        await waitOk();
        // The promoted node knows at once; the others learn it by gossip. Until the node shardOf
        // asks has heard, it still names the old master (a flake seen under load): wait for it.
        await waitFor(`the cluster names ${replica.port} master of ${key}'s slot`, 20_000, async () => ((await shardOfNow(key)).master.port === replica.port ? true : undefined));
        return { from: master, to: replica };
      },
      waitOk,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Removes every key under a prefix on every master of a cluster (SCAN per node). */
export async function deleteClusterPrefix(nodes: ClusterNode[], prefix: string): Promise<void> {
  for (const n of nodes) {
    const redis = new Redis({ ...n, maxRetriesPerRequest: 1, retryStrategy: () => null });
    redis.on('error', () => undefined);
    try {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        cursor = next;
        // A replica refuses writes (READONLY): its master's pass removes the same keys.
        for (const k of keys) await redis.unlink(k).catch(() => undefined);
      } while (cursor !== '0');
    } finally {
      await redis.quit().catch(() => redis.disconnect());
    }
  }
}
