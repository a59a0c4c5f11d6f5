import type { LetterDraft } from '@mz/contracts';
import { LENGTH_BUDGETS, letterIssues, lengthInstruction, openingOf, wordCount, type LetterGuard } from './letter-guard';

const words = (n: number) => Array.from({ length: n }, (_, i) => `word${i}`).join(' ');
const draft = (over: Partial<LetterDraft> = {}): LetterDraft => ({
  subject: 'On patience', body: `Dear friend, today is about patience. ${words(200)}`, summary: 'Patience.', themes: ['patience'], tone: 'warm',
  advice_focus: 'waiting', variation_tags: ['wait'], ...over,
});
const guard = (over: Partial<LetterGuard> = {}): LetterGuard => ({ length: 'medium', recent: [], promptText: 'You are Seneca.', ...over });

describe('letterIssues', () => {
  it('passes a letter within its length budget, new subject, new opening, no links', () => {
    expect(letterIssues(draft(), guard())).toEqual([]);
  });

  it('refuses a body outside the budget, with the target in words', () => {
    const { minWords, maxWords } = LENGTH_BUDGETS.medium;
    expect(letterIssues(draft({ body: words(minWords - 1) }), guard())).toEqual([`the body has ${minWords - 1} words; write about 200–350 words`]);
    expect(letterIssues(draft({ body: words(maxWords + 1) }), guard())).toHaveLength(1);
    expect(letterIssues(draft({ body: words(maxWords) }), guard())).toEqual([]);
    expect(letterIssues(draft({ body: words(60) }), guard({ length: 'short' }))).toEqual([]);
  });

  it('refuses a subject or an opening of a recent letter, ignoring case, punctuation and our tag', () => {
    const recent = [{ localDate: '2030-01-02', subject: 'On Patience! [mz:resilience]', opening: 'Dear friend — today is about patience, again.' }];
    expect(letterIssues(draft(), guard({ recent }))).toEqual([
      'the subject repeats the letter of 2030-01-02 ("On Patience!"); choose a new one',
      'the body opens like the letter of 2030-01-02; begin differently',
    ]);
    expect(letterIssues(draft({ subject: 'On waiting', body: `Good morning. ${words(200)}` }), guard({ recent }))).toEqual([]);
  });

  it('refuses links and addresses the prompt did not provide, allows the ones it did', () => {
    const body = `See https://example.org/read and write to me at seneca@example.org. ${words(200)}`;
    expect(letterIssues(draft({ body }), guard())).toEqual(['it contains links or addresses nobody gave you (https://example.org/read, seneca@example.org); remove them']);
    expect(letterIssues(draft({ body }), guard({ promptText: 'Reader notes: my blog is https://example.org/read, mail seneca@example.org' }))).toEqual([]);
    expect(letterIssues(draft({ summary: 'Visit www.spam.example' }), guard())).toHaveLength(1);
  });
});

describe('helpers', () => {
  it('count words, take the opening, and state the length for the prompt', () => {
    expect(wordCount('One, two — three!\n\nfour')).toBe(4);
    expect(openingOf('Dear Friend, Today: we begin with one small step and more')).toBe('dear friend today we begin with');
    expect(lengthInstruction('short')).toBe('about 100–200 words, short');
  });
});
