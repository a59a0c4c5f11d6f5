import { GroupCommit } from './group-commit';

/** A batch runner whose batches finish when the test says so. */
function gated() {
  const batches: { inputs: string[]; finish: (outputs?: string[]) => void; fail: (e: unknown) => void }[] = [];
  const run = (inputs: string[]) =>
    new Promise<string[]>((resolve, reject) => {
      batches.push({ inputs, finish: (o) => resolve(o ?? inputs.map((i) => `done:${i}`)), fail: reject });
    });
  return { batches, run };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('GroupCommit', () => {
  it('runs a lone call at once, alone', async () => {
    const g = gated();
    const group = new GroupCommit(g.run, (i) => i);
    const a = group.call('a');
    expect(g.batches.map((b) => b.inputs)).toEqual([['a']]);
    g.batches[0].finish();
    await expect(a).resolves.toBe('done:a');
  });

  it('groups the calls that arrive while a batch is in flight, each getting its own result', async () => {
    const g = gated();
    const group = new GroupCommit(g.run, (i) => i);
    const a = group.call('a');
    const rest = ['b', 'c', 'd'].map((i) => group.call(i));
    expect(g.batches).toHaveLength(1);
    g.batches[0].finish();
    await a;
    await tick();
    expect(g.batches.map((b) => b.inputs)).toEqual([['a'], ['b', 'c', 'd']]);
    g.batches[1].finish(['x', 'y', 'z']);
    await expect(Promise.all(rest)).resolves.toEqual(['x', 'y', 'z']);
  });

  it('never puts two calls with the same key in one batch; the second joins the next', async () => {
    const g = gated();
    const group = new GroupCommit(g.run, (i) => i.split('#')[0]);
    const calls = ['a#1', 'b', 'a#2', 'c', 'a#3'].map((i) => group.call(i));
    g.batches[0].finish();
    await tick();
    expect(g.batches[1].inputs).toEqual(['b', 'a#2', 'c']);
    g.batches[1].finish();
    await tick();
    expect(g.batches[2].inputs).toEqual(['a#3']);
    g.batches[2].finish();
    await expect(Promise.all(calls)).resolves.toEqual(['done:a#1', 'done:b', 'done:a#2', 'done:c', 'done:a#3']);
  });

  it('caps a batch at maxBatch, oldest first', async () => {
    const g = gated();
    const group = new GroupCommit(g.run, (i) => i, { maxBatch: 2 });
    const calls = ['a', 'b', 'c', 'd', 'e'].map((i) => group.call(i));
    for (const expected of [['a'], ['b', 'c'], ['d', 'e']]) {
      expect(g.batches.at(-1)!.inputs).toEqual(expected);
      g.batches.at(-1)!.finish();
      await tick();
    }
    await expect(Promise.all(calls)).resolves.toHaveLength(5);
  });

  it('rejects every call of a failed batch, and the next batch still runs', async () => {
    const g = gated();
    const group = new GroupCommit(g.run, (i) => i);
    const a = group.call('a');
    const b = group.call('b');
    g.batches[0].fail(new Error('connection reset'));
    await expect(a).rejects.toThrow('connection reset');
    await tick();
    g.batches[1].finish();
    await expect(b).resolves.toBe('done:b');
  });

  it('rejects the batch when the runner returns the wrong number of results', async () => {
    const g = gated();
    const group = new GroupCommit(g.run, (i) => i);
    const a = group.call('a');
    g.batches[0].finish(['x', 'y']);
    await expect(a).rejects.toThrow('2 results for 1 inputs');
  });

  it('runs up to maxInFlight batches at once', async () => {
    const g = gated();
    const group = new GroupCommit(g.run, (i) => i, { maxInFlight: 2 });
    const calls = ['a', 'b', 'c'].map((i) => group.call(i));
    expect(g.batches.map((b) => b.inputs)).toEqual([['a'], ['b']]);
    g.batches[1].finish();
    await tick();
    expect(g.batches.map((b) => b.inputs)).toEqual([['a'], ['b'], ['c']]);
    g.batches[0].finish();
    g.batches[2].finish();
    await expect(Promise.all(calls)).resolves.toEqual(['done:a', 'done:b', 'done:c']);
  });

  describe('with lingerMs', () => {
    beforeEach(() => jest.useFakeTimers({ doNotFake: ['setImmediate'] }));
    afterEach(() => jest.useRealTimers());

    it('holds a lone call for lingerMs, and the calls that arrive meanwhile go with it', async () => {
      const g = gated();
      const group = new GroupCommit(g.run, (i) => i, { lingerMs: 2 });
      const calls = [group.call('a'), group.call('b')];
      jest.advanceTimersByTime(1);
      calls.push(group.call('c'));
      expect(g.batches).toHaveLength(0);
      jest.advanceTimersByTime(1);
      expect(g.batches.map((b) => b.inputs)).toEqual([['a', 'b', 'c']]);
      g.batches[0].finish();
      await expect(Promise.all(calls)).resolves.toEqual(['done:a', 'done:b', 'done:c']);
    });

    it('starts a full batch at once, without waiting out the linger', () => {
      const g = gated();
      const group = new GroupCommit(g.run, (i) => i, { maxBatch: 3, lingerMs: 1000 });
      void group.call('a');
      void group.call('b');
      expect(g.batches).toHaveLength(0);
      void group.call('c');
      expect(g.batches.map((b) => b.inputs)).toEqual([['a', 'b', 'c']]);
      jest.advanceTimersByTime(1000);
      expect(g.batches).toHaveLength(1); // the cancelled linger starts nothing
    });

    it('sends the calls that queued behind a running batch as soon as it returns, without lingering again', async () => {
      const g = gated();
      const group = new GroupCommit(g.run, (i) => i, { lingerMs: 5 });
      const a = group.call('a');
      jest.advanceTimersByTime(5);
      const b = group.call('b');
      expect(g.batches.map((x) => x.inputs)).toEqual([['a']]);
      g.batches[0].finish();
      await a;
      await tick();
      expect(g.batches.map((x) => x.inputs)).toEqual([['a'], ['b']]);
      g.batches[1].finish();
      await expect(b).resolves.toBe('done:b');
    });
  });
});
