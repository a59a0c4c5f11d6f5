import { canonicalLanguage, footerForLanguage, languageName, primaryLanguage, supportedLanguage, TRANSLATED_FOOTERS } from './language';

describe('canonicalLanguage', () => {
  it('canonicalises well-formed tags', () => {
    expect(canonicalLanguage('EN-us')).toBe('en-US');
    expect(canonicalLanguage('zh-hant-tw')).toBe('zh-Hant-TW');
    expect(canonicalLanguage('iw')).toBe('he');
    expect(canonicalLanguage(' de-AT ')).toBe('de-AT');
    expect(canonicalLanguage('es-419')).toBe('es-419');
  });

  it('refuses what is not a language we could write in', () => {
    for (const bad of ['', ' ', 'en_US', 'english', 'x-klingon', 'i-default', 'qaa', 'qtz-DE', 'und', 'zxx', 'mul', '<script>', 'de-', `en-${'a'.repeat(40)}`]) {
      expect([bad, canonicalLanguage(bad)]).toEqual([bad, null]);
    }
  });
});

describe('the supported languages and their footers', () => {
  it('reduces a tag to its primary language and to one of ours', () => {
    expect(primaryLanguage('de-CH')).toBe('de');
    expect(primaryLanguage(null)).toBe('en');
    expect(supportedLanguage('fr-CA')).toBe('fr');
    expect(supportedLanguage('pt-BR')).toBeNull();
    expect(languageName('de-AT')).toBe('Austrian German');
  });

  it('gives the built-in footer for de/fr/es and the admin\'s for English and everything else', () => {
    const admin = { textTemplate: 'EN {{unsubscribe_link}}', htmlTemplate: '<p>EN</p>' };
    expect(footerForLanguage('de-AT', admin)).toEqual({ textTemplate: TRANSLATED_FOOTERS.de.text, htmlTemplate: TRANSLATED_FOOTERS.de.html, language: 'de' });
    for (const lang of ['en', 'en-GB', 'it', 'ja', null]) expect(footerForLanguage(lang, admin)).toEqual({ ...admin, language: 'en' });
  });

  it('keeps every placeholder of the English footer in each translation', () => {
    for (const f of Object.values(TRANSLATED_FOOTERS)) {
      for (const placeholder of ['{{topic_name}}', '{{login_link}}', '{{unsubscribe_link}}']) {
        expect(f.text).toContain(placeholder);
        expect(f.html).toContain(placeholder);
      }
    }
  });
});
