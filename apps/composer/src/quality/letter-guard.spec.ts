import type { LetterDraft } from '@mz/contracts';
import { countWords, languageIssue, scriptShare, STOPWORDS, stopwordShares } from './language-check';
import { LENGTH_BUDGETS, letterIssues, lengthInstruction, openingOf, wordCount, type LetterGuard } from './letter-guard';

// Filler with one English stopword in four, so the language check reads it as English.
const words = (n: number) => Array.from({ length: n }, (_, i) => (i % 4 === 0 ? 'the' : `word${i}`)).join(' ');
const draft = (over: Partial<LetterDraft> = {}): LetterDraft => ({
  subject: 'On patience', body: `Dear friend, today is about patience. ${words(200)}`, summary: 'Patience.', themes: ['patience'], tone: 'warm',
  advice_focus: 'waiting', variation_tags: ['wait'], ...over,
});
const guard = (over: Partial<LetterGuard> = {}): LetterGuard => ({ length: 'medium', recent: [], promptText: 'You are Seneca.', language: 'en', ...over });

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

describe('letterIssues: the language', () => {
  const letters = {
    en: 'Dear friend, today I want you to think about the small things that make a day feel complete. Take ten minutes this morning and write down what you will do, and then do just one of them before lunch. It is not about being perfect, it is about beginning.',
    de: 'Liebe Freundin, heute möchte ich, dass du über die kleinen Dinge nachdenkst, die einen Tag vollständig machen. Nimm dir zehn Minuten am Morgen und schreib auf, was du tun willst, und dann mach nur eine Sache davon vor dem Mittagessen. Es geht nicht um Perfektion.',
    fr: "Chère amie, aujourd'hui je voudrais que vous pensiez aux petites choses qui rendent une journée complète. Prenez dix minutes ce matin et écrivez ce que vous allez faire, puis faites une seule de ces choses avant le déjeuner. Il ne s'agit pas d'être parfait.",
    es: 'Querida amiga, hoy quiero que pienses en las pequeñas cosas que hacen que un día se sienta completo. Tómate diez minutos esta mañana y escribe lo que vas a hacer, y luego haz solo una de ellas antes del almuerzo. No se trata de ser perfecta.',
    it: "Cara amica, oggi voglio che tu pensi alle piccole cose che rendono una giornata completa. Prenditi dieci minuti questa mattina e scrivi cosa farai, e poi fai solo una di queste cose prima di pranzo. Non si tratta di essere perfetti, ma di iniziare con calma e con fiducia.",
  };
  const check = (body: string, language: string) => languageIssue(body, language);

  it('passes a letter in the asked-for language, whatever its region subtag', () => {
    for (const [lang, body] of Object.entries(letters)) expect([lang, check(body, lang)]).toEqual([lang, null]);
    expect(check(letters.de, 'de-AT')).toBeNull();
    expect(check(letters.es, 'es-419')).toBeNull();
  });

  it('refuses a letter in another of our languages, naming the asked-for one', () => {
    expect(check(letters.en, 'de')).toMatch(/must be written in German \(de\), but it reads as English/);
    expect(check(letters.fr, 'es')).toMatch(/reads as French/);
    expect(check(letters.es, 'en-GB')).toMatch(/British English/);
    expect(check(letters.it, 'en')).toMatch(/must be written in English \(en\)/);
  });

  it('refuses an English letter for a language outside the four, by stopwords or by script', () => {
    expect(check(letters.en, 'it')).toMatch(/Italian.*reads as English/);
    expect(check(letters.en, 'ru')).toMatch(/Russian.*not in its script/);
    expect(check(letters.en, 'ja')).toMatch(/Japanese/);
    expect(check('Дорогой друг, сегодня я хочу, чтобы ты подумал о маленьких вещах.', 'ru')).toBeNull();
    expect(check('今日は小さなことについて考えてみましょう。十分間だけ、やることを書き出してください。', 'ja')).toBeNull();
  });

  it('does not judge a short text, and goes back to the model as a reason in letterIssues', () => {
    expect(check('Hello there, friend.', 'de')).toBeNull();
    expect(letterIssues(draft({ body: `${letters.en} ${words(120)}` }), guard({ language: 'de' }))).toEqual([expect.stringContaining('must be written in German')]);
  });
});

describe('helpers', () => {
  it('count words, take the opening, and state the length for the prompt', () => {
    expect(wordCount('One, two — three!\n\nfour')).toBe(4);
    expect(openingOf('Dear Friend, Today: we begin with one small step and more')).toBe('dear friend today we begin with');
    expect(lengthInstruction('short')).toBe('about 100–200 words, short');
  });

  it('counts the words holding a letter (or a digit) as splitting on whitespace does', () => {
    // The reference: split on whitespace, then one Unicode test per word, as the guard first counted.
    const reference = (text: string, digits: boolean) => text.split(/\s+/).filter((w) => (digits ? /[\p{L}\p{N}]/u : /\p{L}/u).test(w)).length;
    const texts = [...mixedTexts(), `${'-'.repeat(5000)} word`, '٣ ١٢٣', 'x\u2003y\u00a0z\ufeffw'];
    for (const [i, text] of texts.entries()) {
      expect([i, countWords(text)]).toEqual([i, reference(text, false)]);
      expect([i, wordCount(text)]).toEqual([i, reference(text, true)]);
    }
  });

  it('takes the opening from the first characters exactly as from the whole body', () => {
    // The whole-body reading, as it was before openingOf looked at a prefix only.
    const whole = (b: string) => b.replace(/\[mz:[^\]]*\]/gi, ' ').toLowerCase().normalize('NFKC').replace(/[^\p{L}\p{N}]+/gu, ' ').trim().split(' ').slice(0, 6).join(' ');
    const long = 'x'.repeat(395);
    const bodies = [
      '',
      'Hi',
      'Dear friend, ' + 'the quiet hour is yours. '.repeat(100),
      `${long} cut-in-the-middle of a word right at the edge and more words after it`,
      `${'a'.repeat(150)} ${'b'.repeat(150)} ${'c'.repeat(150)} d e f g`,
      `${'word '.repeat(79)}ﬁnal ligature after the edge`,
      `[mz:focus] ${'Ünïcödé '.repeat(60)}`,
      `${'😀 '.repeat(199)}🙂 emoji at the edge, then words`,
      'ℌello, ℭastle: signs that NFKC makes ASCII capitals',
    ];
    for (const b of bodies) expect(openingOf(b)).toBe(whole(b));
  });
});

describe('scriptShare', () => {
  // The reference: one code point at a time, as the guard first counted.
  const reference = (text: string, scripts: string[]) => {
    const letters = [...text].filter((c) => /\p{L}/u.test(c));
    if (!letters.length) return null;
    const inScript = new RegExp(`[${scripts.map((p) => `\\p{Script=${p}}`).join('')}]`, 'u');
    return letters.filter((c) => inScript.test(c)).length / letters.length;
  };

  it.each([
    ['Latn', ['Latn'], 'Dear friend, today — one thing at a time. 123 !'],
    ['Cyrl', ['Cyrl'], 'Дорогой друг, сегодня — one thing at a time.'],
    ['Jpan', ['Hira', 'Kana', 'Han'], '今日はひとつずつ、ゆっくりと。Today.'],
    ['Hans', ['Han'], '𠀀𠀁 今天 one 𝒜𝒷 letters outside the BMP 😀'],
    ['Arab', ['Arab'], 'صديقي العزيز، اليوم خطوة واحدة. ١٢٣'],
    ['Kore', ['Hang', 'Han'], '오늘은 한 가지씩. 漢字 too, and English.'],
  ])('counts the letters of %s as one code point each', (script, parts, text) => {
    expect(scriptShare(text, script)).toBeCloseTo(reference(text, parts)!, 12);
  });

  it('has nothing to judge without letters or a script', () => {
    expect(scriptShare('123 — !? 😀', 'Latn')).toBeNull();
    expect(scriptShare('Dear friend', null)).toBeUndefined();
  });

  it('counts ASCII and other letters apart exactly as the reference counts them together', () => {
    for (const [i, text] of mixedTexts().entries()) {
      for (const [script, parts] of [['Latn', ['Latn']], ['Cyrl', ['Cyrl']], ['Jpan', ['Hira', 'Kana', 'Han']]] as const) {
        const want = reference(text, [...parts]);
        const got = scriptShare(text, script);
        if (want === null) expect([i, script, got]).toEqual([i, script, null]);
        else expect([i, script, got]).toEqual([i, script, expect.closeTo(want, 12)]);
      }
    }
  });
});

/**
 * Texts for comparing the guard's counting with per-code-point references: the letters of the
 * four languages and a few scripts, mixed with ASCII, punctuation, digits, combining marks, curly
 * quotes, dashes, emoji and letters outside the BMP, in lengths from empty to a few hundred.
 */
function mixedTexts(): string[] {
  const pieces = [
    'the', 'The', 'AND', 'für', 'Straße', 'être', 'más', 'niño', 'tu', 'TU', 'über', 'œuvre', 'ﬁn', 'İstanbul', 'e\u0301', 'Дорогой',
    '今日は', 'ひらがな', 'カタカナ', '한국어', 'صديقي', '𠀀', '𝒜𝒷', '😀', '—', '“', '”', "'", '-', '123', '١٢٣', ' ', '  ', '\n', '\t', '.', ',', '!',
    'K', // the Kelvin sign lowercases to an ASCII k
    'ℌ', // lowercasing keeps it; NFKC then makes it an ASCII H
  ];
  let seed = 7;
  const next = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed);
  const texts = ['', ' ', 'Dear friend', '— “” 123', ...pieces];
  for (let n = 0; n < 300; n++) texts.push(Array.from({ length: next() % 120 }, () => pieces[next() % pieces.length]).join(next() % 3 ? ' ' : ''));
  return texts;
}

describe('stopwordShares', () => {
  // The reference: every run of letters split out with the Unicode pattern, each language's list
  // filtered on its own, as the check first counted.
  const reference = (text: string) => {
    const words = text.toLowerCase().normalize('NFC').split(/[^\p{L}]+/u).filter(Boolean);
    return Object.fromEntries(Object.entries(STOPWORDS).map(([lang, set]) => [lang, words.length ? words.filter((w) => set.has(w)).length / words.length : 0]));
  };

  it('finds the same words and shares as the Unicode split, with or without non-ASCII letters', () => {
    for (const [i, text] of mixedTexts().entries()) expect([i, stopwordShares(text)]).toEqual([i, reference(text)]);
    expect(stopwordShares('The cat — “and” the dog.')).toEqual({ en: 3 / 5, de: 0, fr: 0, es: 0 });
    expect(stopwordShares('Tu es là, tu sais.')).toEqual({ en: 0, de: 0, fr: 2 / 5, es: 2 / 5 }); // "tu" counts for both
  });
});
