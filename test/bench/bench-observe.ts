/**
 * What the harness reads around each measured round: CPU of every process involved (services,
 * their Postgres backends, Redis, the fakes), Redis memory and command counts, Postgres
 * database/table counters. Snapshots are diffed per round and divided by the letters.
 */
import type { Cluster, Redis } from 'ioredis';
import type { Client } from 'pg';
import { backends, databaseStats, tableStats } from './bench-db';
import { diffCommandStats, infoField, parseCommandStats } from './bench-profile';
import { type CpuSample, cpuDeltaMs, readCpu, readMemory } from './proc-stats';

export interface Watched {
  /** Label → pid (services, baseline children, the fakes host). */
  processes: Record<string, number>;
}

export interface Snapshot {
  at: number;
  processes: Record<string, CpuSample | null>;
  /** Postgres backends of the bench database, by the application that opened them. */
  pg: Map<number, CpuSample & { app: string }>;
  redisCpuMs: number;
  commandstats: Map<string, { calls: number; usec: number }>;
  db: Record<string, number>;
  tables: Record<string, Record<string, number>>;
}

/** A single Redis, or a Redis Cluster (`--cluster`): figures are summed over its nodes. */
export type RedisTarget = Redis | Cluster;

/** The node connections behind `redis`: itself, or every node (or every master) of the cluster. */
function nodesOf(redis: RedisTarget, role: 'all' | 'master'): Redis[] {
  return 'isCluster' in redis && redis.isCluster ? (redis as Cluster).nodes(role) : [redis as Redis];
}

export async function snapshot(db: Client, database: string, redis: RedisTarget, watched: Watched): Promise<Snapshot> {
  const processes: Record<string, CpuSample | null> = {};
  for (const [label, pid] of Object.entries(watched.processes)) processes[label] = readCpu(pid);
  const pg = new Map<number, CpuSample & { app: string }>();
  for (const b of await backends(db, database)) {
    const s = readCpu(b.pid);
    if (s) pg.set(b.pid, { ...s, app: b.app });
  }
  // Every node's CPU (replicas apply the writes too) and commands, summed.
  let redisCpuMs = 0;
  const commandstats = new Map<string, { calls: number; usec: number }>();
  for (const node of nodesOf(redis, 'all')) {
    const [cpuInfo, cmdInfo] = await Promise.all([node.info('cpu'), node.info('commandstats')]);
    redisCpuMs += (infoField(cpuInfo, 'used_cpu_user') + infoField(cpuInfo, 'used_cpu_sys')) * 1000;
    for (const [cmd, v] of parseCommandStats(cmdInfo)) {
      const sum = commandstats.get(cmd) ?? { calls: 0, usec: 0 };
      commandstats.set(cmd, { calls: sum.calls + v.calls, usec: sum.usec + v.usec });
    }
  }
  return {
    at: Date.now(),
    processes,
    pg,
    redisCpuMs,
    commandstats,
    db: await databaseStats(db, database),
    tables: await tableStats(db),
  };
}

export interface Usage {
  wallMs: number;
  /** CPU ms per watched process label. */
  processes: Record<string, number>;
  /** CPU ms of Postgres backends per application_name (mz-composer, …). */
  pg: Record<string, number>;
  pgTotal: number;
  /** Redis server CPU (instance-wide: includes anything else using this Redis meanwhile). */
  redis: number;
  commands: { command: string; calls: number; usec: number }[];
  db: Record<string, number>;
  tables: Record<string, Record<string, number>>;
}

export function usageBetween(a: Snapshot, b: Snapshot): Usage {
  const processes: Record<string, number> = {};
  for (const [label, after] of Object.entries(b.processes)) {
    const before = a.processes[label];
    processes[label] = after && before && after.starttime === before.starttime ? after.cpuMs - before.cpuMs : Number.NaN;
  }
  const pg: Record<string, number> = {};
  for (const [pid, s] of b.pg) {
    const before = a.pg.get(pid);
    const one = cpuDeltaMs(new Map(before ? [[pid, before]] : []), new Map([[pid, s]]));
    pg[s.app] = (pg[s.app] ?? 0) + one;
  }
  const db: Record<string, number> = {};
  for (const [k, v] of Object.entries(b.db)) db[k] = v - (a.db[k] ?? 0);
  const tables: Record<string, Record<string, number>> = {};
  for (const [t, cols] of Object.entries(b.tables)) {
    const diff: Record<string, number> = {};
    for (const [k, v] of Object.entries(cols)) if (v - (a.tables[t]?.[k] ?? 0)) diff[k] = v - (a.tables[t]?.[k] ?? 0);
    if (Object.keys(diff).length) tables[t] = diff;
  }
  return {
    wallMs: b.at - a.at,
    processes,
    pg,
    pgTotal: Object.values(pg).reduce((s, v) => s + v, 0),
    redis: b.redisCpuMs - a.redisCpuMs,
    commands: diffCommandStats(a.commandstats, b.commandstats),
    db,
    tables,
  };
}

export interface RedisMemory {
  /** INFO memory used_memory, bytes (the whole instance). */
  usedMemory: number;
  /** Sum of MEMORY USAGE over this run's keys (prefix-scoped; immune to other users of the instance). */
  prefixBytes: number;
  prefixKeys: number;
}

export async function redisMemory(redis: RedisTarget, prefix: string): Promise<RedisMemory> {
  let usedMemory = 0;
  let prefixBytes = 0;
  let prefixKeys = 0;
  // Masters only: a replica holds a copy of the same keys.
  for (const node of nodesOf(redis, 'master')) {
    usedMemory += infoField(await node.info('memory'), 'used_memory');
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) {
        const pipe = node.pipeline();
        for (const k of keys) pipe.call('MEMORY', 'USAGE', k, 'SAMPLES', '0');
        for (const [err, v] of (await pipe.exec()) ?? []) if (!err && typeof v === 'number') prefixBytes += v;
        prefixKeys += keys.length;
      }
    } while (cursor !== '0');
  }
  return { usedMemory, prefixBytes, prefixKeys };
}

/** Deletes every key of the run (all its prefixes start with `stem`); SCAN, never KEYS. */
export async function deleteKeys(redis: RedisTarget, stem: string): Promise<number> {
  let n = 0;
  for (const node of nodesOf(redis, 'master')) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${stem}*`, 'COUNT', 1000);
      cursor = next;
      if (!keys.length) continue;
      // On a cluster node a multi-key UNLINK must stay within one slot: one key per command.
      const pipe = node.pipeline();
      for (const k of keys) pipe.unlink(k);
      for (const [err, v] of (await pipe.exec()) ?? []) if (!err && typeof v === 'number') n += v;
    } while (cursor !== '0');
  }
  return n;
}

export function peakRssMb(pid: number): number | null {
  const m = readMemory(pid);
  return m ? m.peakRssKb / 1024 : null;
}
