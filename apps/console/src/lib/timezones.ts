/** IANA time zones as the browser knows them, grouped for a readable picker. */

const FALLBACK = ['UTC', 'Europe/London', 'Europe/Berlin', 'America/New_York', 'America/Los_Angeles', 'Asia/Tokyo', 'Australia/Sydney'];

export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

export function allTimeZones(): string[] {
  const intl = Intl as typeof Intl & { supportedValuesOf?: (key: 'timeZone') => string[] };
  const zones = typeof intl.supportedValuesOf === 'function' ? intl.supportedValuesOf('timeZone') : FALLBACK;
  // Chromium leaves "UTC" out of the list; subscribers still choose it.
  return zones.includes('UTC') ? [...zones] : ['UTC', ...zones];
}

export interface ZoneGroup {
  region: string;
  zones: string[];
}

/** Groups zones by region ("Europe", "America", …) in a stable order; `extra` (e.g. a saved zone the browser lacks) is kept. */
export function groupTimeZones(zones: readonly string[], extra: readonly string[] = []): ZoneGroup[] {
  const all = [...new Set([...zones, ...extra.filter(Boolean)])];
  const groups = new Map<string, string[]>();
  for (const z of all) {
    const region = z.includes('/') ? z.slice(0, z.indexOf('/')) : 'Other';
    if (!groups.has(region)) groups.set(region, []);
    groups.get(region)!.push(z);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a === 'Other' ? 1 : b === 'Other' ? -1 : a.localeCompare(b)))
    .map(([region, list]) => ({ region, zones: list.sort((a, b) => a.localeCompare(b)) }));
}

/** "Europe/Kiev" → "Kiev (Europe)"; "America/Argentina/Buenos_Aires" → "Buenos Aires (Argentina)". */
export function zoneLabel(zone: string): string {
  const parts = zone.split('/');
  if (parts.length === 1) return zone;
  const city = parts[parts.length - 1].replace(/_/g, ' ');
  const where = parts.length > 2 ? parts[parts.length - 2].replace(/_/g, ' ') : parts[0];
  return `${city} (${where})`;
}
