import { ReadCache } from './read-cache';

describe('ReadCache', () => {
  it('reuses a read within ttlMs and reads again after it', async () => {
    let reads = 0;
    const cache = new ReadCache(async () => ++reads, 60_000);
    expect(await cache.get()).toBe(1);
    expect(await cache.get()).toBe(1);
    cache.ttlMs = 0; // checked on every get: takes effect at once
    expect(await cache.get()).toBe(2);
    expect(await cache.get()).toBe(3);
  });

  it('lets concurrent callers share one read', async () => {
    let reads = 0;
    let release!: () => void;
    const cache = new ReadCache(() => new Promise<number>((r) => (release = () => r(++reads))), 60_000);
    const both = Promise.all([cache.get(), cache.get()]);
    release();
    expect(await both).toEqual([1, 1]);
    expect(reads).toBe(1);
  });

  it('does not keep a failed read', async () => {
    let calls = 0;
    const cache = new ReadCache(async () => {
      if (++calls === 1) throw new Error('database down');
      return 'ok';
    }, 60_000);
    await expect(cache.get()).rejects.toThrow('database down');
    expect(await cache.get()).toBe('ok');
    expect(calls).toBe(2);
  });
});
