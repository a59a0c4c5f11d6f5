import { readFileSync } from 'node:fs';
import { type CpuSample, cpuDeltaMs, parseProcStat, parseProcStatus, readCpu, readMemory, ticksToMs } from './proc-stats';

// A real line's shape (proc(5)), with a command name that contains spaces and parentheses.
const STAT = '4242 (node (worker) x) S 1 4242 4242 0 -1 4194560 9811 0 12 0 1234 567 0 0 20 0 11 0 98765 1171968000 29000 18446744073709551615 1 1 0 0 0 0 0 4096 134234626 0 0 0 17 1 0 0 0 0 0';

describe('/proc parsing', () => {
  it('reads utime, stime and start time counting fields from the last ")"', () => {
    expect(parseProcStat(STAT)).toEqual({ utime: 1234, stime: 567, starttime: 98765 });
    expect(() => parseProcStat('garbage')).toThrow();
  });

  it('reads peak and current RSS from status', () => {
    const status = 'Name:\tnode\nVmPeak:\t 1200000 kB\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\nThreads:\t11\n';
    expect(parseProcStatus(status)).toEqual({ peakRssKb: 204800, rssKb: 102400 });
    expect(parseProcStatus('Name:\tkthreadd\nThreads:\t1\n')).toBeNull();
  });

  it('converts ticks and sums deltas, counting new processes from zero and skipping recycled pids', () => {
    expect(ticksToMs(150, 100)).toBe(1500);
    const s = (pid: number, starttime: number, cpuMs: number): [number, CpuSample] => [pid, { pid, starttime, cpuMs }];
    const before = new Map([s(1, 10, 100), s(2, 20, 50), s(3, 30, 999)]);
    const after = new Map([s(1, 10, 160), s(2, 21, 5), s(4, 40, 7)]);
    // pid 1: +60; pid 2 was recycled: its 5 ms count whole; pid 4 is new: 7; pid 3 vanished.
    expect(cpuDeltaMs(before, after)).toBe(72);
  });

  it('reads this very process', () => {
    const cpu = readCpu(process.pid);
    expect(cpu?.cpuMs).toBeGreaterThan(0);
    expect(cpu?.starttime).toBe(parseProcStat(readFileSync('/proc/self/stat', 'utf8')).starttime);
    expect(readMemory(process.pid)?.peakRssKb).toBeGreaterThan(1000);
    expect(readCpu(2 ** 30)).toBeNull();
  });
});
