import { ScheduleError } from './schedule';
import { decideDue, initialRun, slotLocalDate } from './schedule-decision';

const H = 3_600_000;
const WINDOW = 6 * H;
const paris = { timezone: 'Europe/Paris', sendTimeLocal: '07:30', lastScheduledLocalDate: null, pausedUntil: null };
// 2026-06-10 07:30 in Paris (CEST, UTC+2)
const SLOT = new Date('2026-06-10T05:30:00Z');

describe('decideDue', () => {
  it('schedules the slot and moves the cursor to the next local date', () => {
    const d = decideDue({ ...paris, nextRunAt: SLOT }, new Date('2026-06-10T05:20:00Z'), WINDOW);
    expect(d).toEqual({
      action: 'letter', status: 'scheduled', scheduledFor: SLOT, localDate: '2026-06-10',
      nextRunAt: new Date('2026-06-11T05:30:00Z'), lastScheduledLocalDate: '2026-06-10',
    });
  });

  it('schedules a slot that is late but inside the catch-up window', () => {
    const d = decideDue({ ...paris, nextRunAt: SLOT, lastScheduledLocalDate: '2026-06-09' }, new Date(SLOT.getTime() + 5 * H), WINDOW);
    expect(d).toMatchObject({ action: 'letter', status: 'scheduled', localDate: '2026-06-10', nextRunAt: new Date('2026-06-11T05:30:00Z') });
  });

  it('skips a slot older than the catch-up window, once, and resumes with the first slot still inside it', () => {
    // Three days of outage: the slot of the 10th is skipped; the 11th and 12th are past the window
    // too, so the next run is the 13th — no skip row per missed day.
    const now = new Date('2026-06-13T04:00:00Z');
    const d = decideDue({ ...paris, nextRunAt: SLOT }, now, WINDOW);
    expect(d).toEqual({
      action: 'letter', status: 'skipped', scheduledFor: SLOT, localDate: '2026-06-10',
      nextRunAt: new Date('2026-06-13T05:30:00Z'), lastScheduledLocalDate: '2026-06-10',
    });
  });

  it('after a skip, a slot that passed less than the window ago is next (sent late, not lost)', () => {
    const now = new Date('2026-06-13T09:00:00Z'); // the 13th's slot passed 3.5 h ago
    const d = decideDue({ ...paris, nextRunAt: SLOT }, now, WINDOW);
    expect(d).toMatchObject({ status: 'skipped', nextRunAt: new Date('2026-06-13T05:30:00Z') });
    const again = decideDue({ ...paris, nextRunAt: d.nextRunAt, lastScheduledLocalDate: d.lastScheduledLocalDate }, now, WINDOW);
    expect(again).toMatchObject({ action: 'letter', status: 'scheduled', localDate: '2026-06-13' });
  });

  it('paused past the slot: no letter, next run is the first slot after the pause', () => {
    const pausedUntil = new Date('2026-06-14T12:00:00Z');
    const d = decideDue({ ...paris, nextRunAt: SLOT, pausedUntil }, new Date('2026-06-10T05:20:00Z'), WINDOW);
    expect(d).toEqual({ action: 'advance', reason: 'paused', nextRunAt: new Date('2026-06-15T05:30:00Z'), lastScheduledLocalDate: null });
  });

  it('a pause that ended before the slot does not matter', () => {
    const d = decideDue({ ...paris, nextRunAt: SLOT, pausedUntil: new Date('2026-06-09T00:00:00Z') }, new Date('2026-06-10T05:20:00Z'), WINDOW);
    expect(d).toMatchObject({ action: 'letter', status: 'scheduled' });
  });

  it('a local date that already had its letter gets no second one (time changed the same day)', () => {
    // 07:30 letter scheduled on the 10th, then the time was set to 20:00 with a cursor on the 10th.
    const slot = new Date('2026-06-10T18:00:00Z');
    const d = decideDue({ ...paris, sendTimeLocal: '20:00', nextRunAt: slot, lastScheduledLocalDate: '2026-06-10' }, new Date('2026-06-10T17:55:00Z'), WINDOW);
    expect(d).toEqual({ action: 'advance', reason: 'already_scheduled', nextRunAt: new Date('2026-06-11T18:00:00Z'), lastScheduledLocalDate: '2026-06-10' });
  });

  it('a zone change the same day: the slot in the new zone is still on a scheduled local date → no letter', () => {
    // Letter for Tokyo's 2026-06-10 done; moving to Los Angeles where it is still the 10th.
    const la = { timezone: 'America/Los_Angeles', sendTimeLocal: '18:00', pausedUntil: null };
    const slot = new Date('2026-06-11T01:00:00Z'); // 18:00 on the 10th in LA
    const d = decideDue({ ...la, nextRunAt: slot, lastScheduledLocalDate: '2026-06-10' }, new Date('2026-06-11T00:59:00Z'), WINDOW);
    expect(d).toMatchObject({ action: 'advance', reason: 'already_scheduled', nextRunAt: new Date('2026-06-12T01:00:00Z') });
  });

  it('a slot a DST gap pushed past midnight belongs to the day before', () => {
    // America/Nuuk skips 23:00-24:00 on 2026-03-28: its 23:30 run is at 00:30 on the 29th.
    const nuuk = { timezone: 'America/Nuuk', sendTimeLocal: '23:30', lastScheduledLocalDate: null, pausedUntil: null };
    const slot = new Date('2026-03-29T01:30:00Z');
    expect(slotLocalDate(nuuk.timezone, nuuk.sendTimeLocal, slot)).toBe('2026-03-28');
    const d = decideDue({ ...nuuk, nextRunAt: slot }, new Date('2026-03-29T01:20:00Z'), WINDOW);
    expect(d).toMatchObject({ action: 'letter', localDate: '2026-03-28', nextRunAt: new Date('2026-03-30T00:30:00Z') });
    // …so the 29th still gets its own 23:30 letter.
    const next = decideDue({ ...nuuk, nextRunAt: d.nextRunAt, lastScheduledLocalDate: d.lastScheduledLocalDate }, new Date('2026-03-30T00:20:00Z'), WINDOW);
    expect(next).toMatchObject({ action: 'letter', status: 'scheduled', localDate: '2026-03-29' });
  });

  it('a slot that is not a run of the current schedule takes the wall-clock date', () => {
    expect(slotLocalDate('Europe/Paris', '07:30', new Date('2026-06-10T21:59:00Z'))).toBe('2026-06-10');
    expect(slotLocalDate('Europe/Paris', '07:30', new Date('2026-06-10T22:01:00Z'))).toBe('2026-06-11');
  });

  it('always moves the cursor forward', () => {
    const now = new Date('2026-06-10T05:20:00Z');
    for (const sub of [
      { ...paris, nextRunAt: SLOT },
      { ...paris, nextRunAt: SLOT, lastScheduledLocalDate: '2026-06-10' },
      { ...paris, nextRunAt: SLOT, pausedUntil: new Date(SLOT.getTime() + 1) },
      { ...paris, nextRunAt: new Date('2026-01-01T06:30:00Z') },
    ]) {
      expect(decideDue(sub, now, WINDOW).nextRunAt.getTime()).toBeGreaterThan(sub.nextRunAt.getTime());
    }
  });

  it('refuses an invalid stored schedule', () => {
    expect(() => decideDue({ ...paris, timezone: 'Mars/Olympus', nextRunAt: SLOT }, SLOT, WINDOW)).toThrow(ScheduleError);
    expect(() => decideDue({ ...paris, sendTimeLocal: '25:00', nextRunAt: SLOT }, SLOT, WINDOW)).toThrow(ScheduleError);
    // Asked again (answers are remembered, failures are not).
    expect(() => decideDue({ ...paris, timezone: 'Mars/Olympus', nextRunAt: SLOT }, SLOT, WINDOW)).toThrow(ScheduleError);
  });

  it('gives the same answers when asked again, and still decides by the clock it is given', () => {
    const slot = new Date('2026-09-01T05:30:00Z');
    const sub = { ...paris, nextRunAt: slot };
    const first = decideDue(sub, new Date('2026-09-01T05:20:00Z'), WINDOW);
    expect(decideDue(sub, new Date('2026-09-01T05:25:00Z'), WINDOW)).toEqual(first);
    expect(first).toMatchObject({ status: 'scheduled', localDate: '2026-09-01', nextRunAt: new Date('2026-09-02T05:30:00Z') });
    // The same slot seen once the catch-up window has passed is skipped, with a later next run.
    expect(decideDue(sub, new Date('2026-09-02T04:00:00Z'), WINDOW)).toMatchObject({ status: 'skipped', localDate: '2026-09-01', nextRunAt: new Date('2026-09-02T05:30:00Z') });
    expect(decideDue(sub, new Date('2026-09-03T04:00:00Z'), WINDOW)).toMatchObject({ status: 'skipped', nextRunAt: new Date('2026-09-03T05:30:00Z') });
    // Another zone at the same instant and wall clock is another question.
    expect(decideDue({ ...sub, timezone: 'Europe/Lisbon', sendTimeLocal: '06:30' }, new Date('2026-09-01T05:20:00Z'), WINDOW)).toMatchObject({ localDate: '2026-09-01' });
    expect(decideDue({ ...sub, lastScheduledLocalDate: '2026-09-01' }, new Date('2026-09-01T05:20:00Z'), WINDOW)).toMatchObject({ action: 'advance', reason: 'already_scheduled' });
  });
});

describe('initialRun', () => {
  it('is the next slot from now, on a date after the last scheduled one, and after a pause', () => {
    const now = new Date('2026-06-10T04:00:00Z');
    expect(initialRun(paris, now)).toEqual(new Date('2026-06-10T05:30:00Z'));
    expect(initialRun({ ...paris, lastScheduledLocalDate: '2026-06-10' }, now)).toEqual(new Date('2026-06-11T05:30:00Z'));
    expect(initialRun({ ...paris, pausedUntil: new Date('2026-06-12T06:00:00Z') }, now)).toEqual(new Date('2026-06-13T05:30:00Z'));
  });
});
