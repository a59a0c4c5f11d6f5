/**
 * Settings shared by the fuzz suites: seeded (FUZZ_SEED replays a failure; the seed is printed by
 * fast-check on failure and by us at start), bounded in count (FUZZ_RUNS scales every suite) and
 * in time (each property stops generating after its budget and passes with what it ran).
 */
import fc from 'fast-check';

export const FUZZ_SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
const RUN_SCALE = process.env.FUZZ_RUNS ? Math.max(0.01, Number(process.env.FUZZ_RUNS) / 100) : 1;

/** `numRuns` scaled by FUZZ_RUNS (percent of the default), at most `timeMs` of generation. */
export function fuzzParams(numRuns: number, timeMs: number): fc.Parameters<unknown> {
  return {
    seed: FUZZ_SEED,
    numRuns: Math.max(1, Math.round(numRuns * RUN_SCALE)),
    interruptAfterTimeLimit: timeMs,
    endOnFailure: true,
  };
}

/** Runs an async property; on failure the error names the seed to replay with. */
export async function fuzz<T>(name: string, arb: fc.Arbitrary<T>, check: (v: T) => Promise<void>, params: fc.Parameters<unknown>): Promise<void> {
  try {
    await fc.assert(fc.asyncProperty(arb, check), { seed: params.seed, numRuns: params.numRuns, interruptAfterTimeLimit: params.interruptAfterTimeLimit, endOnFailure: params.endOnFailure });
  } catch (err) {
    // Counterexamples can be 100 kB strings: the head of the report names the seed, the path and the problem.
    const cause = (err as Error & { cause?: Error }).cause?.message ?? '';
    (err as Error).message = `[fuzz "${name}"] replay with FUZZ_SEED=${params.seed}\n${cause.slice(0, 1500)}\n${(err as Error).message.slice(0, 1500)}`;
    throw err;
  }
}

/** Text a careless client or an attacker sends: NUL and other controls, lone surrogates, huge. */
export const hostileText = (): fc.Arbitrary<string> =>
  fc.oneof(
    { arbitrary: fc.constantFrom('\u0000', 'a\u0000b', 'Done\u0000', '\u0001\u0007\u001b[31m', '\u007f\u0085', '\ud800', '\udfff\ud800', '\uffff', ' ', '', '%00', '../../etc/passwd', "'; DROP TABLE app_user; --", '<script>alert(1)</script>'), weight: 4 },
    { arbitrary: fc.string({ unit: 'binary', maxLength: 40 }), weight: 3 },
    { arbitrary: fc.string({ unit: fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)), maxLength: 8 }), weight: 2 },
    { arbitrary: fc.integer({ min: 1_000, max: 100_000 }).map((n) => 'x'.repeat(n)), weight: 1 },
  );

/** Any JSON-ish value, including ones of the wrong type for every field. */
export const hostileJson = (): fc.Arbitrary<unknown> =>
  fc.oneof(
    { depthSize: 'small' },
    hostileText(),
    fc.constantFrom(null, true, false, 0, -1, 1e308, -0, [], {}, [null], { __proto__: { admin: true } }),
    fc.integer(),
    fc.double(),
    fc.array(hostileText(), { maxLength: 3 }),
    fc.dictionary(hostileText(), hostileText(), { maxKeys: 3 }),
  );
