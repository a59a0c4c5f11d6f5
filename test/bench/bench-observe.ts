/**
 * What the harness reads around each measured round: CPU of every process involved (services,
 * their Postgres backends, Redis, the fakes), Redis memory and command counts, Postgres
 * database/table counters. Snapshots are diffed per round and divided by the letters.
 */
import type Redis from 'ioredis';
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

export async function snapshot(db: Client, database: string, redis: Redis, watched: Watched): Promise<Snapshot> {
  const processes: Record<string, CpuSample | null> = {};
  for (const [label, pid] of Object.entries(watched.processes)) processes[label] = readCpu(pid);
  const pg = new Map<number, CpuSample & { app: string }>();
  for (const b of await backends(db, database)) {
    const s = readCpu(b.pid);
    if (s) pg.set(b.pid, { ...s, app: b.app });
  }
  const [cpuInfo, cmdInfo] = await Promise.all([redis.info('cpu'), redis.info('commandstats')]);
  return {
    at: Date.now(),
    processes,
    pg,
    redisCpuMs: (infoField(cpuInfo, 'used_cpu_user') + infoField(cpuInfo, 'used_cpu_sys')) * 1000,
    commandstats: parseCommandStats(cmdInfo),
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

export async function redisMemory(redis: Redis, prefix: string): Promise<RedisMemory> {
  const usedMemory = infoField(await redis.info('memory'), 'used_memory');
  let cursor = '0';
  let prefixBytes = 0;
  let prefixKeys = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) {
      const pipe = redis.pipeline();
      for (const k of keys) pipe.call('MEMORY', 'USAGE', k, 'SAMPLES', '0');
      for (const [err, v] of (await pipe.exec()) ?? []) if (!err && typeof v === 'number') prefixBytes += v;
      prefixKeys += keys.length;
    }
  } while (cursor !== '0');
  return { usedMemory, prefixBytes, prefixKeys };
}

/** Deletes every key of the run (all its prefixes start with `stem`); SCAN, never KEYS. */
export async function deleteKeys(redis: Redis, stem: string): Promise<number> {
  let cursor = '0';
  let n = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${stem}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) n += await redis.unlink(...keys);
  } while (cursor !== '0');
  return n;
}

export function peakRssMb(pid: number): number | null {
  const m = readMemory(pid);
  return m ? m.peakRssKb / 1024 : null;
}
