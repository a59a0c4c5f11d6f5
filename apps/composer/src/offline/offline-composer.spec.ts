import { randomUUID } from 'node:crypto';
import { LetterDraft } from '@mz/contracts';
import { SEED_TOPICS } from '@mz/db';
import type { ComposeContext, RecentLetter } from '../compose-context';
import { sampleContext } from '../compose-context.fixture';
import { renderLetter } from '../render/render-letter';
import { composeOffline, pickAvoiding } from './offline-composer';
import { OFFLINE_LIBRARY } from './offline-passages';

function day(n: number): string {
  return new Date(Date.UTC(2025, 0, 1 + n)).toISOString().slice(0, 10);
}

/** Runs a subscription for `days` days, feeding each letter back as "recent" like the repository does. */
function simulate(base: ComposeContext, days: number): LetterDraft[] {
  const letters: LetterDraft[] = [];
  const recent: RecentLetter[] = [];
  for (let i = 0; i < days; i++) {
    const ctx: ComposeContext = { ...base, letter: { ...base.letter, id: randomUUID(), localDate: day(i) }, recentLetters: recent.slice(0, 7), letterNumber: i + 1 };
    const draft = composeOffline(ctx);
    letters.push(draft);
    recent.unshift({ localDate: day(i), subject: draft.subject, summary: draft.summary, themes: draft.themes, variationTags: draft.variation_tags, opening: draft.body.slice(0, 300) });
  }
  return letters;
}

describe('composeOffline', () => {
  it('writes a valid LetterDraft for every seeded topic and persona, quoting a bundled passage', () => {
    for (const t of SEED_TOPICS) {
      const ctx = sampleContext({ topic: { ...sampleContext().topic, code: t.code, name: t.name }, persona: { name: t.persona, era: '', styleNotes: '', instructions: '' } });
      const draft = composeOffline(ctx);
      expect(LetterDraft.safeParse(draft).success).toBe(true);
      const lib = OFFLINE_LIBRARY.find((l) => l.persona === t.persona)!;
      expect(lib.passages.some((p) => draft.body.includes(p.text))).toBe(true);
      expect(draft.body).toContain('practice');
    }
  });

  it('bundles at least five passages per seeded persona, each with a distinct id and angle', () => {
    const ids = new Set<string>();
    for (const lib of OFFLINE_LIBRARY) {
      expect(lib.passages.length).toBeGreaterThanOrEqual(5);
      expect(new Set(lib.passages.map((p) => p.angle)).size).toBe(lib.passages.length);
      for (const p of lib.passages) {
        expect(ids.has(p.id)).toBe(false);
        ids.add(p.id);
      }
    }
    expect(OFFLINE_LIBRARY.map((l) => l.persona).sort()).toEqual([...new Set(SEED_TOPICS.map((t) => t.persona))].sort());
  });

  it('never quotes Feynman (not public domain) and says so in the curiosity letters', () => {
    const ctx = sampleContext({ topic: { ...sampleContext().topic, code: 'curiosity', name: 'Curiosity' }, persona: { name: 'Richard Feynman', era: '', styleNotes: '', instructions: '' } });
    const draft = composeOffline(ctx);
    expect(draft.body).toContain('under copyright');
    expect(OFFLINE_LIBRARY.flatMap((l) => l.passages).every((p) => !/feynman/i.test(p.author))).toBe(true);
  });

  it('is deterministic for one letter (a retry writes the same letter)', () => {
    const ctx = sampleContext();
    expect(composeOffline(ctx)).toEqual(composeOffline(ctx));
  });

  it('varies from day to day and never repeats a variation tag on consecutive days', () => {
    const letters = simulate(sampleContext(), 30);
    for (let i = 1; i < letters.length; i++) {
      const shared = letters[i].variation_tags.filter((t) => letters[i - 1].variation_tags.includes(t));
      expect(shared).toEqual([]);
      expect(letters[i].body).not.toBe(letters[i - 1].body);
    }
    // Across a week every passage in Seneca's set is used before any repeats.
    const firstWeek = letters.slice(0, 6).map((l) => l.variation_tags.find((t) => t.startsWith('passage:')));
    expect(new Set(firstWeek).size).toBe(6);
    expect(new Set(letters.map((l) => l.subject)).size).toBeGreaterThan(3);
  });

  it('personalises by streak, context note and the latest reply note (quoted safely)', () => {
    const first = composeOffline(sampleContext({ streak: 0, letterNumber: 1 }));
    expect(first.body).toContain('This is your first letter on resilience');
    const streak = composeOffline(sampleContext({ streak: 9, letterNumber: 12 }));
    expect(streak.body).toContain('9 days marked done in a row');
    const personal = composeOffline(
      sampleContext({ reader: { name: 'Ada', contextNote: 'nurse on nights', language: 'en' }, recentNotes: ['Walked <script>x</script> [link](javascript:alert(1)) today\nsecond line'] }),
    );
    expect(personal.body).toContain('Dear Ada,');
    expect(personal.body).toContain('You told me a little about your situation');
    expect(personal.body).not.toContain('nurse on nights'); // the context note informs, it is not echoed
    expect(personal.body).toContain('In your last reply you wrote: "Walked scriptx/script linkjavascript:alert1 today second line"');
    const html = renderLetter(personal, 'resilience').html;
    expect(html).not.toMatch(/<script|href="javascript/);
  });

  it('renders to clean HTML with the passage as a blockquote', () => {
    const r = renderLetter(composeOffline(sampleContext()), 'resilience');
    expect(r.subject).toMatch(/^On .+ \[mz:resilience\]$/);
    expect(r.html).toMatch(/<blockquote>\s*<p>/);
    expect(r.html).toContain("<strong>Today's practice:</strong>");
  });

  it('falls back sensibly for a persona an admin created', () => {
    const ctx = sampleContext({ persona: { name: 'Hypatia', era: '', styleNotes: '', instructions: '' }, topic: { ...sampleContext().topic, code: 'new-topic' } });
    const draft = composeOffline(ctx);
    expect(draft.body).toContain('in the company of Hypatia');
  });
});

describe('pickAvoiding', () => {
  const tags = (x: string) => [x];
  it('prefers items not used recently and shrinks the window when all were', () => {
    expect(pickAvoiding(['a', 'b', 'c'], tags, [['a'], ['b']], 0.5)).toBe('c');
    expect(pickAvoiding(['a', 'b'], tags, [['a'], ['b']], 0.9)).toBe('b');
    expect(pickAvoiding(['a', 'b'], tags, [['b'], ['a']], 0.9)).toBe('a');
    expect(pickAvoiding(['a'], tags, [['a']], 0.9)).toBe('a');
  });
});
