/**
 * CPU time and peak memory of a process from Linux /proc (proc(5)): `stat` fields 14/15 (utime,
 * stime, in clock ticks) and `status` VmHWM (peak resident set). Parsers are pure and tested;
 * readers return null when the process is gone (a Postgres backend that closed, say).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface ProcCpu {
  /** User-mode CPU, clock ticks. */
  utime: number;
  /** Kernel-mode CPU, clock ticks. */
  stime: number;
  /** Process start, clock ticks after boot (tells a recycled pid from the original). */
  starttime: number;
}

/**
 * Parses /proc/<pid>/stat. The command name (field 2) is in parentheses and may itself contain
 * spaces and ')' — so fields are counted from the LAST ')' (as proc(5) advises).
 */
export function parseProcStat(text: string): ProcCpu {
  const close = text.lastIndexOf(')');
  if (close < 0) throw new Error('not a /proc/<pid>/stat line: no ")"');
  // After ") " comes field 3 (state); field k is at index k - 3.
  const fields = text.slice(close + 2).trim().split(/\s+/);
  const field = (k: number) => {
    const v = Number(fields[k - 3]);
    if (!Number.isFinite(v)) throw new Error(`/proc/<pid>/stat field ${k} is not a number`);
    return v;
  };
  return { utime: field(14), stime: field(15), starttime: field(22) };
}

export interface ProcMemory {
  /** Peak resident set size (VmHWM), kB. */
  peakRssKb: number;
  /** Current resident set size (VmRSS), kB. */
  rssKb: number;
}

/** Parses /proc/<pid>/status for VmHWM and VmRSS (kB). Kernel threads have neither: null. */
export function parseProcStatus(text: string): ProcMemory | null {
  const kb = (name: string) => {
    const m = new RegExp(`^${name}:\\s*(\\d+)\\s*kB`, 'm').exec(text);
    return m ? Number(m[1]) : null;
  };
  const peak = kb('VmHWM');
  const rss = kb('VmRSS');
  return peak === null || rss === null ? null : { peakRssKb: peak, rssKb: rss };
}

let clockTicks: number | undefined;

/** sysconf(_SC_CLK_TCK): ticks per second for stat's utime/stime (100 on practically every Linux). */
export function clockTicksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      const v = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
      clockTicks = Number.isInteger(v) && v > 0 ? v : 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

export function ticksToMs(ticks: number, hz = clockTicksPerSecond()): number {
  return (ticks * 1000) / hz;
}

export interface CpuSample {
  pid: number;
  starttime: number;
  /** utime + stime, ms. */
  cpuMs: number;
}

export function readCpu(pid: number): CpuSample | null {
  try {
    const s = parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    return { pid, starttime: s.starttime, cpuMs: ticksToMs(s.utime + s.stime) };
  } catch {
    return null;
  }
}

export function readMemory(pid: number): ProcMemory | null {
  try {
    return parseProcStatus(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return null;
  }
}

/**
 * CPU used between two samples of a set of processes. A process absent from `before` (started in
 * between: a new Postgres backend) counts from zero; one whose pid was recycled (different start
 * time) likewise. Processes gone by `after` are lost — callers sample while everything still runs.
 */
export function cpuDeltaMs(before: ReadonlyMap<number, CpuSample>, after: ReadonlyMap<number, CpuSample>): number {
  let total = 0;
  for (const [pid, a] of after) {
    const b = before.get(pid);
    total += b && b.starttime === a.starttime ? Math.max(0, a.cpuMs - b.cpuMs) : a.cpuMs;
  }
  return total;
}
