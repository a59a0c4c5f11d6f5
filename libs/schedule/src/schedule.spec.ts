import { Temporal } from 'temporal-polyfill';
import {
  ScheduleError,
  assertSchedule,
  isPastCatchUpWindow,
  isValidSendTime,
  isValidTimezone,
  localDateOf,
  nextRun,
  previewRuns,
  type Run,
} from './index';

const next = (timezone: string, sendTimeLocal: string, now: string, lastScheduledLocalDate?: string | null): Run =>
  nextRun({ timezone, sendTimeLocal, now: new Date(now), lastScheduledLocalDate });

const plain = (run: Run) => ({ at: run.at.toISOString(), localDate: run.localDate, local: run.local });

const expectRun = (run: Run, at: string, localDate: string, local: string) =>
  expect(plain(run)).toEqual({ at: new Date(at).toISOString(), localDate, local });

// Wall clock read through Intl rather than Temporal, so the tests do not only check Temporal
// against itself.
const formatters = new Map<string, Intl.DateTimeFormat>();
function wallClock(epochMs: number, timeZone: string): string {
  let fmt = formatters.get(timeZone);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, fmt);
  }
  const p = Object.fromEntries(fmt.formatToParts(new Date(epochMs)).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
}

describe('ordinary days', () => {
  it('runs later the same day when the send time is still ahead', () => {
    expectRun(next('Europe/Paris', '08:00', '2026-06-15T05:00:00Z'), '2026-06-15T06:00:00Z', '2026-06-15', '2026-06-15T08:00');
  });

  it('runs the next day when the send time has passed', () => {
    expectRun(next('Europe/Paris', '08:00', '2026-06-15T07:00:00Z'), '2026-06-16T06:00:00Z', '2026-06-16', '2026-06-16T08:00');
  });

  it('is strictly after now: exactly at the send time gives the next day', () => {
    expectRun(next('Europe/Paris', '08:00', '2026-06-15T06:00:00Z'), '2026-06-16T06:00:00Z', '2026-06-16', '2026-06-16T08:00');
    expectRun(next('Europe/Paris', '08:00', '2026-06-15T05:59:59.999Z'), '2026-06-15T06:00:00Z', '2026-06-15', '2026-06-15T08:00');
  });

  it('handles UTC itself', () => {
    expectRun(next('UTC', '12:34', '2026-01-01T12:33:00Z'), '2026-01-01T12:34:00Z', '2026-01-01', '2026-01-01T12:34');
  });

  it('uses the timezone offset in force on the run date (winter vs summer)', () => {
    expectRun(next('Europe/Paris', '08:00', '2026-01-15T00:00:00Z'), '2026-01-15T07:00:00Z', '2026-01-15', '2026-01-15T08:00');
    expectRun(next('America/Los_Angeles', '08:00', '2026-07-15T00:00:00Z'), '2026-07-15T15:00:00Z', '2026-07-15', '2026-07-15T08:00');
  });
});

describe('lastScheduledLocalDate', () => {
  it('today already scheduled: next run is tomorrow even though today\'s time is ahead', () => {
    expectRun(next('Europe/Paris', '08:00', '2026-06-15T05:00:00Z', '2026-06-15'), '2026-06-16T06:00:00Z', '2026-06-16', '2026-06-16T08:00');
  });

  it('yesterday scheduled: today is still open', () => {
    expectRun(next('Europe/Paris', '08:00', '2026-06-15T05:00:00Z', '2026-06-14'), '2026-06-15T06:00:00Z', '2026-06-15', '2026-06-15T08:00');
  });

  it('a date in the future pushes the run past it', () => {
    expectRun(next('Europe/Paris', '08:00', '2026-06-15T05:00:00Z', '2026-06-20'), '2026-06-21T06:00:00Z', '2026-06-21', '2026-06-21T08:00');
  });

  it('null and undefined mean no previous letter', () => {
    expect(plain(next('Europe/Paris', '08:00', '2026-06-15T05:00:00Z', null))).toEqual(
      plain(next('Europe/Paris', '08:00', '2026-06-15T05:00:00Z')),
    );
  });

  it('changing the send time later the same day does not give that day a second letter', () => {
    // 08:00 letter for 2026-06-15 already scheduled; at 10:00 local the user moves to 20:00.
    expectRun(next('Europe/Paris', '20:00', '2026-06-15T08:00:00Z', '2026-06-15'), '2026-06-16T18:00:00Z', '2026-06-16', '2026-06-16T20:00');
    // Without the guard it would have been tonight.
    expectRun(next('Europe/Paris', '20:00', '2026-06-15T08:00:00Z'), '2026-06-15T18:00:00Z', '2026-06-15', '2026-06-15T20:00');
  });
});

describe('spring-forward gaps (nonexistent local time is shifted by the gap length)', () => {
  it('America/New_York 2026-03-08 02:30 → 03:30 EDT', () => {
    expectRun(next('America/New_York', '02:30', '2026-03-08T05:00:00Z'), '2026-03-08T07:30:00Z', '2026-03-08', '2026-03-08T03:30');
    // Day before and after are ordinary 02:30 (EST then EDT).
    expectRun(next('America/New_York', '02:30', '2026-03-07T05:00:00Z'), '2026-03-07T07:30:00Z', '2026-03-07', '2026-03-07T02:30');
    expectRun(next('America/New_York', '02:30', '2026-03-08T07:30:00Z'), '2026-03-09T06:30:00Z', '2026-03-09', '2026-03-09T02:30');
  });

  it('a send time at the gap edge is not shifted (03:00 exists, 02:00 does not)', () => {
    expectRun(next('America/New_York', '03:00', '2026-03-08T05:00:00Z'), '2026-03-08T07:00:00Z', '2026-03-08', '2026-03-08T03:00');
    expectRun(next('America/New_York', '02:00', '2026-03-08T05:00:00Z'), '2026-03-08T07:00:00Z', '2026-03-08', '2026-03-08T03:00');
  });

  it('Europe/London 2026-03-29 01:30 → 02:30 BST', () => {
    expectRun(next('Europe/London', '01:30', '2026-03-29T00:00:00Z'), '2026-03-29T01:30:00Z', '2026-03-29', '2026-03-29T02:30');
  });

  it('Australia/Lord_Howe 30-minute shift: 2026-10-04 02:15 → 02:45 (+11:00)', () => {
    expectRun(next('Australia/Lord_Howe', '02:15', '2026-10-03T12:00:00Z'), '2026-10-03T15:45:00Z', '2026-10-04', '2026-10-04T02:45');
  });

  it('Antarctica/Troll 2-hour shift: 2026-03-29 01:30 → 03:30 (+02:00)', () => {
    expectRun(next('Antarctica/Troll', '01:30', '2026-03-28T12:00:00Z'), '2026-03-29T01:30:00Z', '2026-03-29', '2026-03-29T03:30');
  });

  it('America/Havana midnight gap: 00:00 on 2026-03-08 → 01:00', () => {
    expectRun(next('America/Havana', '00:00', '2026-03-07T12:00:00Z'), '2026-03-08T05:00:00Z', '2026-03-08', '2026-03-08T01:00');
    expectRun(next('America/Havana', '00:00', '2026-03-08T05:00:00Z'), '2026-03-09T04:00:00Z', '2026-03-09', '2026-03-09T00:00');
  });

  it('a gap crossing midnight keeps the run on its own local date (America/Nuuk 2026-03-28 23:00 → 00:00)', () => {
    // 23:30 on the 28th does not exist: it is sent at 00:30 on the 29th, as the 28th's letter,
    // and the 29th still gets its own 23:30 letter.
    const runs = previewRuns({ timezone: 'America/Nuuk', sendTimeLocal: '23:30', after: new Date('2026-03-27T12:00:00Z'), count: 3 });
    expect(runs.map(plain)).toEqual([
      { at: '2026-03-28T01:30:00.000Z', localDate: '2026-03-27', local: '2026-03-27T23:30' },
      { at: '2026-03-29T01:30:00.000Z', localDate: '2026-03-28', local: '2026-03-29T00:30' },
      { at: '2026-03-30T00:30:00.000Z', localDate: '2026-03-29', local: '2026-03-29T23:30' },
    ]);
  });

  it('finds yesterday\'s shifted slot when now is just after midnight (America/Nuuk)', () => {
    // 00:00 local on the 29th: the 28th's shifted 00:30 run is still ahead.
    expectRun(next('America/Nuuk', '23:30', '2026-03-29T01:00:00Z'), '2026-03-29T01:30:00Z', '2026-03-28', '2026-03-29T00:30');
    expectRun(next('America/Nuuk', '23:30', '2026-03-29T01:00:00Z', '2026-03-28'), '2026-03-30T00:30:00Z', '2026-03-29', '2026-03-29T23:30');
  });
});

describe('fall-back folds (repeated local time: first occurrence, never twice)', () => {
  it('America/New_York 2026-11-01 01:30 → first occurrence (EDT)', () => {
    expectRun(next('America/New_York', '01:30', '2026-11-01T04:00:00Z'), '2026-11-01T05:30:00Z', '2026-11-01', '2026-11-01T01:30');
  });

  it('now between the two occurrences → following day, not the second occurrence', () => {
    // 06:00Z is 01:00 EST: the second 01:30 (06:30Z) is still ahead but the date is done.
    expectRun(next('America/New_York', '01:30', '2026-11-01T06:00:00Z'), '2026-11-02T06:30:00Z', '2026-11-02', '2026-11-02T01:30');
    // Also just after the first occurrence.
    expectRun(next('America/New_York', '01:30', '2026-11-01T05:30:00Z'), '2026-11-02T06:30:00Z', '2026-11-02', '2026-11-02T01:30');
  });

  it('the repeated hour\'s edge 01:00 uses the first occurrence, 02:00 exists once', () => {
    expectRun(next('America/New_York', '01:00', '2026-11-01T04:00:00Z'), '2026-11-01T05:00:00Z', '2026-11-01', '2026-11-01T01:00');
    expectRun(next('America/New_York', '02:00', '2026-11-01T04:00:00Z'), '2026-11-01T07:00:00Z', '2026-11-01', '2026-11-01T02:00');
  });

  it('Australia/Lord_Howe 30-minute fold on 2026-04-05 at 01:45', () => {
    expectRun(next('Australia/Lord_Howe', '01:45', '2026-04-04T12:00:00Z'), '2026-04-04T14:45:00Z', '2026-04-05', '2026-04-05T01:45');
    // Between the occurrences (+11:00 at 14:45Z, +10:30 at 15:15Z).
    expectRun(next('Australia/Lord_Howe', '01:45', '2026-04-04T15:00:00Z'), '2026-04-05T15:15:00Z', '2026-04-06', '2026-04-06T01:45');
  });

  it('previewRuns through a fold lists each date once', () => {
    const runs = previewRuns({ timezone: 'America/New_York', sendTimeLocal: '01:30', after: new Date('2026-10-31T00:00:00Z'), count: 3 });
    expect(runs.map(plain)).toEqual([
      { at: '2026-10-31T05:30:00.000Z', localDate: '2026-10-31', local: '2026-10-31T01:30' },
      { at: '2026-11-01T05:30:00.000Z', localDate: '2026-11-01', local: '2026-11-01T01:30' },
      { at: '2026-11-02T06:30:00.000Z', localDate: '2026-11-02', local: '2026-11-02T01:30' },
    ]);
  });
});

describe('unusual offsets and the date line', () => {
  it('Asia/Kathmandu (+05:45)', () => {
    expectRun(next('Asia/Kathmandu', '07:00', '2026-06-15T00:00:00Z'), '2026-06-15T01:15:00Z', '2026-06-15', '2026-06-15T07:00');
  });

  it('Asia/Kolkata (+05:30)', () => {
    expectRun(next('Asia/Kolkata', '07:00', '2026-06-15T01:30:00Z'), '2026-06-16T01:30:00Z', '2026-06-16', '2026-06-16T07:00');
  });

  it('Pacific/Chatham (+12:45 / +13:45)', () => {
    expectRun(next('Pacific/Chatham', '09:00', '2026-06-14T12:00:00Z'), '2026-06-14T20:15:00Z', '2026-06-15', '2026-06-15T09:00');
  });

  it('Pacific/Kiritimati (+14): the local date is a UTC day ahead', () => {
    expectRun(next('Pacific/Kiritimati', '08:00', '2026-06-14T12:00:00Z'), '2026-06-14T18:00:00Z', '2026-06-15', '2026-06-15T08:00');
  });

  it('Pacific/Pago_Pago (-11): the local date is a UTC day behind', () => {
    expectRun(next('Pacific/Pago_Pago', '20:00', '2026-06-15T00:00:00Z'), '2026-06-15T07:00:00Z', '2026-06-14', '2026-06-14T20:00');
  });

  it('Pacific/Apia skipped 2011-12-30: no run for the missing date, one run on the 31st', () => {
    const runs = previewRuns({ timezone: 'Pacific/Apia', sendTimeLocal: '10:00', after: new Date('2011-12-28T12:00:00Z'), count: 4 });
    expect(runs.map(plain)).toEqual([
      { at: '2011-12-28T20:00:00.000Z', localDate: '2011-12-28', local: '2011-12-28T10:00' },
      { at: '2011-12-29T20:00:00.000Z', localDate: '2011-12-29', local: '2011-12-29T10:00' },
      { at: '2011-12-30T20:00:00.000Z', localDate: '2011-12-31', local: '2011-12-31T10:00' },
      { at: '2011-12-31T20:00:00.000Z', localDate: '2012-01-01', local: '2012-01-01T10:00' },
    ]);
  });

  it('Pacific/Apia: 30 December is never a run date, even when it is the only date left that day', () => {
    // 2011-12-30T12:00Z is 2011-12-31 02:00 local (+14).
    expectRun(next('Pacific/Apia', '23:59', '2011-12-30T12:00:00Z', '2011-12-29'), '2011-12-31T09:59:00Z', '2011-12-31', '2011-12-31T23:59');
    expectRun(next('Pacific/Apia', '00:00', '2011-12-29T10:00:00Z'), '2011-12-30T10:00:00Z', '2011-12-31', '2011-12-31T00:00');
  });
});

describe('Africa/Casablanca Ramadan 2026 (UTC+1 suspended for about five weeks)', () => {
  it('repeated hour when +01:00 ends (2026-02-15 03:00 → 02:00): first occurrence', () => {
    expectRun(next('Africa/Casablanca', '02:30', '2026-02-14T12:00:00Z'), '2026-02-15T01:30:00Z', '2026-02-15', '2026-02-15T02:30');
  });

  it('during Ramadan the zone is UTC+0', () => {
    expectRun(next('Africa/Casablanca', '08:00', '2026-03-01T00:00:00Z'), '2026-03-01T08:00:00Z', '2026-03-01', '2026-03-01T08:00');
  });

  it('gap when +01:00 returns (2026-03-22 02:00 → 03:00)', () => {
    expectRun(next('Africa/Casablanca', '02:30', '2026-03-21T12:00:00Z'), '2026-03-22T02:30:00Z', '2026-03-22', '2026-03-22T03:30');
  });
});

describe('midnight and end of day', () => {
  it('00:00 belongs to the new local date even when it is the previous UTC day', () => {
    expectRun(next('Europe/Paris', '00:00', '2026-06-15T10:00:00Z'), '2026-06-15T22:00:00Z', '2026-06-16', '2026-06-16T00:00');
  });

  it('23:59 one minute before and exactly at', () => {
    expectRun(next('Europe/Paris', '23:59', '2026-06-15T21:58:00Z'), '2026-06-15T21:59:00Z', '2026-06-15', '2026-06-15T23:59');
    expectRun(next('Europe/Paris', '23:59', '2026-06-15T21:59:00Z'), '2026-06-16T21:59:00Z', '2026-06-16', '2026-06-16T23:59');
  });

  it('00:00 with now exactly at local midnight → next midnight', () => {
    expectRun(next('Asia/Tokyo', '00:00', '2026-06-14T15:00:00Z'), '2026-06-15T15:00:00Z', '2026-06-16', '2026-06-16T00:00');
  });
});

describe('changing timezone the same day (local date is evaluated in the zone passed in)', () => {
  it('Tokyo → Los Angeles where it is still D-1: next run is after D', () => {
    // Letter for 2026-06-15 was scheduled in Tokyo (08:00 JST = 2026-06-14T23:00Z).
    const now = '2026-06-15T00:00:00Z'; // 17:00 on the 14th in Los Angeles
    expect(localDateOf(new Date(now), 'America/Los_Angeles')).toBe('2026-06-14');
    expectRun(next('America/Los_Angeles', '18:00', now, '2026-06-15'), '2026-06-17T01:00:00Z', '2026-06-16', '2026-06-16T18:00');
    // Without the guard the user would get a second letter within hours (18:00 on the 14th, then the 15th).
    expectRun(next('America/Los_Angeles', '18:00', now), '2026-06-15T01:00:00Z', '2026-06-14', '2026-06-14T18:00');
  });

  it('Los Angeles → Tokyo where it is already D+1: D+1 is allowed', () => {
    // Letter for 2026-06-15 sent at 07:00 PDT (14:00Z); at 15:00Z it is 00:00 on the 16th in Tokyo.
    expectRun(next('Asia/Tokyo', '08:00', '2026-06-15T15:00:00Z', '2026-06-15'), '2026-06-15T23:00:00Z', '2026-06-16', '2026-06-16T08:00');
  });
});

describe('previewRuns', () => {
  it('returns consecutive distinct local dates across a DST change with correct UTC instants', () => {
    const runs = previewRuns({ timezone: 'Europe/Paris', sendTimeLocal: '09:00', after: new Date('2026-03-27T00:00:00Z'), count: 4 });
    expect(runs.map(plain)).toEqual([
      { at: '2026-03-27T08:00:00.000Z', localDate: '2026-03-27', local: '2026-03-27T09:00' },
      { at: '2026-03-28T08:00:00.000Z', localDate: '2026-03-28', local: '2026-03-28T09:00' },
      { at: '2026-03-29T07:00:00.000Z', localDate: '2026-03-29', local: '2026-03-29T09:00' },
      { at: '2026-03-30T07:00:00.000Z', localDate: '2026-03-30', local: '2026-03-30T09:00' },
    ]);
  });

  it('walks through a spring-forward gap', () => {
    const runs = previewRuns({ timezone: 'America/New_York', sendTimeLocal: '02:30', after: new Date('2026-03-07T00:00:00Z'), count: 3 });
    expect(runs.map(plain)).toEqual([
      { at: '2026-03-07T07:30:00.000Z', localDate: '2026-03-07', local: '2026-03-07T02:30' },
      { at: '2026-03-08T07:30:00.000Z', localDate: '2026-03-08', local: '2026-03-08T03:30' },
      { at: '2026-03-09T06:30:00.000Z', localDate: '2026-03-09', local: '2026-03-09T02:30' },
    ]);
  });

  it('respects lastScheduledLocalDate for the first run and returns up to 30 runs', () => {
    const runs = previewRuns({
      timezone: 'Asia/Kathmandu',
      sendTimeLocal: '07:00',
      after: new Date('2026-06-15T00:00:00Z'),
      lastScheduledLocalDate: '2026-06-15',
      count: 30,
    });
    expect(runs).toHaveLength(30);
    expect(runs[0].localDate).toBe('2026-06-16');
    expect(runs[29].localDate).toBe('2026-07-15');
    for (let i = 1; i < runs.length; i++) {
      expect(runs[i].at.getTime() - runs[i - 1].at.getTime()).toBe(24 * 3600 * 1000);
    }
  });

  it('equals chaining nextRun by hand', () => {
    const input = { timezone: 'Australia/Lord_Howe', sendTimeLocal: '02:15', after: new Date('2026-10-01T00:00:00Z') };
    const runs = previewRuns({ ...input, count: 6 });
    let last: string | null = null;
    for (const run of runs) {
      const expected = nextRun({ timezone: input.timezone, sendTimeLocal: input.sendTimeLocal, now: input.after, lastScheduledLocalDate: last });
      expect(plain(run)).toEqual(plain(expected));
      last = run.localDate;
    }
  });

  it.each([0, 31, -1, 1.5, Number.NaN])('rejects count %p', (count) => {
    expect(() => previewRuns({ timezone: 'UTC', sendTimeLocal: '08:00', after: new Date(), count })).toThrow(ScheduleError);
    expect(() => previewRuns({ timezone: 'UTC', sendTimeLocal: '08:00', after: new Date(), count })).toThrow(/count/);
  });
});

describe('validation', () => {
  it.each(['UTC', 'Europe/Paris', 'America/Argentina/Buenos_Aires', 'Asia/Kathmandu', 'Etc/GMT+2', 'Asia/Calcutta'])(
    'accepts IANA zone %p',
    (tz) => expect(isValidTimezone(tz)).toBe(true),
  );

  it.each(['', 'Mars/Base', '+02:00', '-05:00', '+0200', 'europe/paris', 'Z', ' Europe/Paris', '2026-01-01T00:00[Europe/Paris]', 'Europe/Paris/', 'Local'])(
    'rejects timezone %p',
    (tz) => expect(isValidTimezone(tz)).toBe(false),
  );

  it('rejects non-string timezones without throwing', () => {
    expect(isValidTimezone(undefined as unknown as string)).toBe(false);
    expect(isValidTimezone(42 as unknown as string)).toBe(false);
  });

  it.each(['00:00', '08:05', '12:30', '23:59'])('accepts send time %p', (t) => expect(isValidSendTime(t)).toBe(true));

  it.each(['', '8:00', '08:5', '24:00', '23:60', '12:00:00', ' 12:00', '12h00', '-1:00', '１２:００'])('rejects send time %p', (t) =>
    expect(isValidSendTime(t)).toBe(false),
  );

  it('assertSchedule names the bad value', () => {
    expect(() => assertSchedule('Mars/Base', '08:00')).toThrow(new ScheduleError('Invalid timezone "Mars/Base": expected an IANA zone name such as "Europe/Paris"'));
    expect(() => assertSchedule('Europe/Paris', '24:00')).toThrow(/Invalid send time "24:00"/);
    expect(() => assertSchedule('Europe/Paris', '08:00')).not.toThrow();
  });

  it('ScheduleError is an Error with its own name', () => {
    const err = new ScheduleError('x');
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('ScheduleError');
  });

  it('nextRun rejects a bad timezone, send time or now', () => {
    expect(() => next('+02:00', '08:00', '2026-06-15T00:00:00Z')).toThrow(/Invalid timezone "\+02:00"/);
    expect(() => next('Europe/Paris', '8:00', '2026-06-15T00:00:00Z')).toThrow(/Invalid send time "8:00"/);
    expect(() => nextRun({ timezone: 'UTC', sendTimeLocal: '08:00', now: new Date('nope') })).toThrow(/Invalid now/);
  });

  it.each(['2026-02-30', '2026-13-01', '2026-2-3', '20260203', '', 'yesterday', '2026-06-15T00:00', '+002026-06-15'])(
    'nextRun rejects lastScheduledLocalDate %p',
    (last) => {
      expect(() => next('UTC', '08:00', '2026-06-15T00:00:00Z', last)).toThrow(ScheduleError);
      expect(() => next('UTC', '08:00', '2026-06-15T00:00:00Z', last)).toThrow(`lastScheduledLocalDate ${JSON.stringify(last)}`);
    },
  );

  it('accepts a leap day as lastScheduledLocalDate', () => {
    expectRun(next('UTC', '08:00', '2028-02-29T00:00:00Z', '2028-02-29'), '2028-03-01T08:00:00Z', '2028-03-01', '2028-03-01T08:00');
  });

  it('previewRuns validates like nextRun', () => {
    expect(() => previewRuns({ timezone: 'Mars/Base', sendTimeLocal: '08:00', after: new Date(), count: 3 })).toThrow(ScheduleError);
    expect(() => previewRuns({ timezone: 'UTC', sendTimeLocal: '08:00', after: new Date(), lastScheduledLocalDate: '2026-02-30', count: 3 })).toThrow(
      ScheduleError,
    );
  });
});

describe('localDateOf', () => {
  it('gives the wall-clock date in the zone', () => {
    const instant = new Date('2026-06-15T10:30:00Z');
    expect(localDateOf(instant, 'UTC')).toBe('2026-06-15');
    expect(localDateOf(instant, 'Pacific/Kiritimati')).toBe('2026-06-16');
    expect(localDateOf(instant, 'Pacific/Pago_Pago')).toBe('2026-06-14');
    expect(localDateOf(new Date('2026-06-14T18:14:59Z'), 'Asia/Kathmandu')).toBe('2026-06-14');
    expect(localDateOf(new Date('2026-06-14T18:15:00Z'), 'Asia/Kathmandu')).toBe('2026-06-15');
  });

  it('rejects bad input', () => {
    expect(() => localDateOf(new Date(), 'Mars/Base')).toThrow(ScheduleError);
    expect(() => localDateOf(new Date(Number.NaN), 'UTC')).toThrow(/Invalid instant/);
  });
});

describe('isPastCatchUpWindow', () => {
  const slot = new Date('2026-06-15T06:00:00Z');
  const sixHours = 6 * 3600 * 1000;

  it('is false up to and including the window, true beyond it', () => {
    expect(isPastCatchUpWindow(slot, new Date(slot.getTime() - 1000), sixHours)).toBe(false);
    expect(isPastCatchUpWindow(slot, slot, sixHours)).toBe(false);
    expect(isPastCatchUpWindow(slot, new Date(slot.getTime() + sixHours), sixHours)).toBe(false);
    expect(isPastCatchUpWindow(slot, new Date(slot.getTime() + sixHours + 1), sixHours)).toBe(true);
    expect(isPastCatchUpWindow(slot, new Date(slot.getTime() + 1), 0)).toBe(true);
  });

  it('rejects invalid dates and windows', () => {
    expect(() => isPastCatchUpWindow(new Date(Number.NaN), slot, sixHours)).toThrow(/scheduledFor/);
    expect(() => isPastCatchUpWindow(slot, new Date(Number.NaN), sixHours)).toThrow(/now/);
    expect(() => isPastCatchUpWindow(slot, slot, -1)).toThrow(/catch-up window -1/);
    expect(() => isPastCatchUpWindow(slot, slot, Number.NaN)).toThrow(ScheduleError);
  });
});

describe('property: random zones, times and instants', () => {
  // Africa/Casablanca and Africa/Cairo are left out: temporal-polyfill 0.3 samples offsets every
  // 60 days and misses DST suspensions shorter than that (Ramadan: Casablanca 2012, 2018-2021,
  // 2029-2032; Cairo 2010, 2014), disagreeing with the platform tz data. Upstream:
  // fullcalendar/temporal-polyfill#73. Casablanca's 2026 Ramadan (handled correctly) is tested above.
  const ZONES = [
    'UTC',
    'Europe/Paris',
    'Europe/London',
    'Europe/Dublin', // negative DST in the tz database
    'Europe/Moscow',
    'America/New_York',
    'America/Los_Angeles',
    'America/St_Johns', // -03:30 with DST
    'America/Havana', // midnight transitions
    'America/Santiago',
    'America/Asuncion',
    'America/Sao_Paulo',
    'America/Nuuk', // gap crossing midnight
    'America/Caracas',
    'Atlantic/Azores',
    'Asia/Beirut',
    'Asia/Tehran',
    'Asia/Kathmandu',
    'Asia/Kolkata',
    'Asia/Tokyo',
    'Asia/Pyongyang',
    'Australia/Adelaide',
    'Australia/Lord_Howe',
    'Antarctica/Troll',
    'Pacific/Chatham',
    'Pacific/Auckland',
    'Pacific/Apia',
    'Pacific/Kiritimati',
    'Pacific/Pago_Pago',
  ];
  const MIN_MS = Date.parse('2010-01-01T00:00:00Z');
  const MAX_MS = Date.parse('2035-01-01T00:00:00Z');
  const CASES = 600;

  // Seeded so a failure is reproducible (mulberry32).
  function rng(seed: number) {
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  const pad = (n: number) => String(n).padStart(2, '0');

  /**
   * The instant a local date's letter is due, derived independently of nextRun: every real
   * occurrence of the wall time (checked through Intl), else the gap-shifted time, whose shift
   * must equal the offset change.
   */
  function slotOf(date: Temporal.PlainDate, time: Temporal.PlainTime, tz: string): { ms: number; kind: 'exact' | 'fold' | 'shifted' } {
    const wall = date.toPlainDateTime(time);
    const wallText = wall.toString({ smallestUnit: 'minute' });
    const earlier = wall.toZonedDateTime(tz, { disambiguation: 'earlier' });
    const later = wall.toZonedDateTime(tz, { disambiguation: 'later' });
    const exact = [earlier, later].map((z) => z.epochMilliseconds).filter((ms) => wallClock(ms, tz) === wallText);
    if (exact.length > 0) return { ms: Math.min(...exact), kind: new Set(exact).size > 1 ? 'fold' : 'exact' };
    // Gap: 'earlier' still has the old offset, 'later' the new one.
    const gapNs = later.offsetNanoseconds - earlier.offsetNanoseconds;
    expect(gapNs).toBeGreaterThan(0);
    const shifted = wall.add({ nanoseconds: gapNs }).toString({ smallestUnit: 'minute' });
    expect(wallClock(later.epochMilliseconds, tz)).toBe(shifted);
    return { ms: later.epochMilliseconds, kind: 'shifted' };
  }

  function randomCase(rand: () => number) {
    const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
    const timezone = pick(ZONES);
    let nowMs = MIN_MS + Math.floor(rand() * (MAX_MS - MIN_MS));
    let sendTimeLocal = `${pad(Math.floor(rand() * 24))}:${pad(Math.floor(rand() * 60))}`;
    if (rand() < 0.75) {
      // Aim at a real transition: now within ±36 h of it, and often a send time inside its gap or fold.
      const transition = Temporal.Instant.fromEpochMilliseconds(nowMs).toZonedDateTimeISO(timezone).getTimeZoneTransition('next');
      if (transition) {
        nowMs = transition.epochMilliseconds + Math.floor((rand() * 2 - 1) * 36 * 3600 * 1000);
        if (rand() < 0.75) {
          const before = transition.subtract({ nanoseconds: 1 }).toPlainDateTime();
          const after = transition.toPlainDateTime();
          const [lo, hi] = Temporal.PlainDateTime.compare(before, after) < 0 ? [before, after] : [after, before];
          const spanMin = Math.floor(lo.until(hi).total({ unit: 'minutes' }));
          const t = lo.add({ minutes: Math.floor(rand() * (spanMin + 1)) });
          sendTimeLocal = `${pad(t.hour)}:${pad(t.minute)}`;
        }
      }
    }
    if (rand() < 0.1) nowMs -= nowMs % 60000; // land on whole minutes, sometimes exactly on a slot
    // The last letter's date may come from another zone (the user moved).
    const lastZone = rand() < 0.2 ? pick(ZONES) : timezone;
    const lastOffset = pick([null, undefined, -2, -1, 0, 0, 1, 3]);
    const lastScheduledLocalDate =
      lastOffset === null || lastOffset === undefined
        ? lastOffset
        : Temporal.PlainDate.from(localDateOf(new Date(nowMs), lastZone)).add({ days: lastOffset }).toString();
    return { timezone, sendTimeLocal, now: new Date(nowMs), lastScheduledLocalDate };
  }

  it(`holds the schedule invariants for ${CASES} random cases`, () => {
    const rand = rng(20260315);
    let shifted = 0;
    let folds = 0;
    for (let i = 0; i < CASES; i++) {
      const input = randomCase(rand);
      const { timezone, sendTimeLocal, now, lastScheduledLocalDate } = input;
      const label = JSON.stringify({ ...input, now: now.toISOString() });
      const run = nextRun(input);
      const time = Temporal.PlainTime.from(sendTimeLocal);
      const last = lastScheduledLocalDate ? Temporal.PlainDate.from(lastScheduledLocalDate) : null;
      const runDate = Temporal.PlainDate.from(run.localDate);

      try {
        // Strictly after now, on a date after the last one.
        expect(run.at.getTime()).toBeGreaterThan(now.getTime());
        if (last) expect(Temporal.PlainDate.compare(runDate, last)).toBeGreaterThan(0);

        // `local` is the true wall clock at `at`; it reads the send time on the run's date, or the
        // gap-shifted time when the send time does not exist that day.
        expect(run.local).toBe(wallClock(run.at.getTime(), timezone));
        const slot = slotOf(runDate, time, timezone);
        expect(run.at.getTime()).toBe(slot.ms);
        if (slot.kind === 'shifted') shifted++;
        else expect(run.local).toBe(`${run.localDate}T${sendTimeLocal}`);
        if (slot.kind === 'fold') folds++;
        expect(slot.ms).toBeLessThan(slotOf(runDate.add({ days: 1 }), time, timezone).ms);

        // No earlier qualifying instant: walk every local date from before now up to the run.
        const nowDate = Temporal.PlainDate.from(localDateOf(now, timezone));
        for (let d = nowDate.subtract({ days: 2 }); Temporal.PlainDate.compare(d, runDate) < 0; d = d.add({ days: 1 })) {
          if (last && Temporal.PlainDate.compare(d, last) <= 0) continue;
          const s = slotOf(d, time, timezone);
          if (s.kind === 'fold') folds++;
          const nextSlot = slotOf(d.add({ days: 1 }), time, timezone);
          // A date whose slot would fall on the next date's own slot (a skipped day) has no run.
          const ownInstant = s.ms < nextSlot.ms;
          expect({ date: d.toString(), qualifies: ownInstant && s.ms > now.getTime() }).toEqual({ date: d.toString(), qualifies: false });
        }

        // Chaining never reuses a date or an instant; recomputing a moment earlier is stable.
        const following = nextRun({ timezone, sendTimeLocal, now: run.at, lastScheduledLocalDate: run.localDate });
        expect(following.at.getTime()).toBeGreaterThan(run.at.getTime());
        expect(Temporal.PlainDate.compare(Temporal.PlainDate.from(following.localDate), runDate)).toBeGreaterThan(0);
        expect(plain(nextRun({ ...input, now: new Date(run.at.getTime() - 1) }))).toEqual(plain(run));
      } catch (err) {
        throw new Error(`case ${i} ${label} → ${JSON.stringify(plain(run))}\n${(err as Error).message}`);
      }
    }
    // The generator really exercised gaps and folds, not only ordinary days.
    expect(shifted).toBeGreaterThan(15);
    expect(folds).toBeGreaterThan(15);
  });
});
