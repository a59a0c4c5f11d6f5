import { allTimeZones, groupTimeZones, zoneLabel } from './timezones';

describe('time zones', () => {
  it('lists IANA zones including UTC', () => {
    const zones = allTimeZones();
    expect(zones).toContain('UTC');
    expect(zones).toContain('Europe/Berlin');
    expect(zones.length).toBeGreaterThan(300);
  });

  it('groups by region, keeps an extra saved zone, puts single-part zones last', () => {
    const groups = groupTimeZones(['Europe/Paris', 'America/New_York', 'Europe/Berlin', 'UTC'], ['Etc/GMT+5']);
    expect(groups.map((g) => g.region)).toEqual(['America', 'Etc', 'Europe', 'Other']);
    expect(groups.find((g) => g.region === 'Europe')!.zones).toEqual(['Europe/Berlin', 'Europe/Paris']);
  });

  it('labels zones for people', () => {
    expect(zoneLabel('America/Argentina/Buenos_Aires')).toBe('Buenos Aires (Argentina)');
    expect(zoneLabel('Europe/Berlin')).toBe('Berlin (Europe)');
    expect(zoneLabel('UTC')).toBe('UTC');
  });
});
