import { runInNewContext } from 'node:vm';
import { findNul, hasControlChars, nestedDeeperThan, singleLine, stripNul, stripNulDeep } from './text';

describe('outside text on its way to Postgres', () => {
  it('stripNul removes every NUL and nothing else', () => {
    expect(stripNul('Do\u0000ne\u0000')).toBe('Done');
    expect(stripNul('tab\tand\nnewline \u0007')).toBe('tab\tand\nnewline \u0007');
  });

  it('stripNulDeep cleans values and keys at any depth, of objects from another realm too (worker-thread clones)', () => {
    const foreign = runInNewContext('({ subject: "a\\u0000", headers: { "x\\u0000": "v\\u0000" }, parts: [{ text: "\\u0000t" }] })');
    expect(stripNulDeep(foreign)).toEqual({ subject: 'a', headers: { x: 'v' }, parts: [{ text: 't' }] });
    const date = new Date(0);
    expect(stripNulDeep({ d: date, n: 1, b: null }).d).toBe(date);
  });

  it('findNul names the path of the first NUL, keys included, and ignores clean values', () => {
    expect(findNul({ name: 'ok', value: { note: ['ok', 'bad\u0000'] } })).toBe('value.note.1');
    expect(findNul({ ['k\u0000']: 1 })).toBe('k\\0');
    expect(findNul('\u0000')).toBe('');
    expect(findNul({ a: ['x', { b: 2 }] })).toBeNull();
  });

  it('hostile depth is measured without recursion, and findNul stays bounded', () => {
    let deep: unknown = '\u0000';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(nestedDeeperThan(deep)).toBe(true);
    expect(nestedDeeperThan({ a: [{ b: [1] }] })).toBe(false);
    expect(() => findNul(deep)).not.toThrow();
  });

  it('singleLine refuses control characters (C0, DEL, C1) and keeps ordinary text', () => {
    expect(hasControlChars('Ada Lovelace — née Byron')).toBe(false);
    for (const bad of ['a\u0000', 'a\nb', 'a\tb', '\u007f', '\u0085']) expect(singleLine(100).safeParse(bad).success).toBe(false);
    expect(singleLine(100).parse('  Ada  ')).toBe('Ada');
  });
});
