import { displaySubject, formatDateTime, formatDuration, formatUtc, humanize, relativeTime, splitForwarded, zoneAbbreviation } from './format';

describe('format', () => {
  it('formats an instant in the chosen time zone', () => {
    const at = '2025-03-30T05:30:00Z';
    expect(formatDateTime(at, 'Europe/Berlin', 'en-GB')).toBe('Sun 30 Mar, 07:30');
    expect(formatDateTime(at, 'America/New_York', 'en-GB')).toBe('Sun 30 Mar, 01:30');
    expect(formatDateTime(null)).toBe('—');
    expect(formatDateTime('not a date')).toBe('—');
    expect(zoneAbbreviation(at, 'Europe/Berlin', 'en-GB')).toBe('CEST');
  });

  it('shows UTC unambiguously for admins', () => {
    expect(formatUtc('2025-01-02T03:04:05.678Z')).toBe('2025-01-02 03:04:05 UTC');
  });

  it('speaks relative time', () => {
    const now = new Date('2025-01-01T12:00:00Z');
    expect(relativeTime('2025-01-01T15:00:00Z', now, 'en')).toBe('in 3 hours');
    expect(relativeTime('2024-12-30T12:00:00Z', now, 'en')).toBe('2 days ago');
  });

  it('formats durations and enum codes', () => {
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(12_400)).toBe('12.4 s');
    expect(formatDuration(180_000)).toBe('3 min');
    expect(formatDuration(null)).toBe('—');
    expect(humanize('rate_limit')).toBe('Rate limit');
  });

  it('strips the routing tag from letter subjects', () => {
    expect(displaySubject('On patience [mz:focus]')).toBe('On patience');
    expect(displaySubject('No tag here')).toBe('No tag here');
    expect(displaySubject(null)).toBeNull();
  });

  it('splits a stored reply at its forward mark', () => {
    const text = 'FYI\n\n---------- Forwarded message ---------\nFrom: a@b.example\n\nNews';
    expect(splitForwarded(text, 5)).toEqual({ written: 'FYI', forwarded: '---------- Forwarded message ---------\nFrom: a@b.example\n\nNews' });
    expect(splitForwarded(text, 0)).toEqual({ written: '', forwarded: text });
    expect(splitForwarded(text, null)).toEqual({ written: text, forwarded: null });
    expect(splitForwarded('Done', 99)).toEqual({ written: 'Done', forwarded: null });
  });
});
