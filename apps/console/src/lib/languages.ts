/**
 * The letter-language picker (docs/architecture.md §3.3): BCP 47 tags as the api stores them
 * (canonical, Intl.getCanonicalLocales), named in their own language. The api validates again;
 * this only keeps the picker to tags it will accept.
 */

/** Languages with built-in footer chrome and reply rules (libs/contracts SUPPORTED_LANGUAGES). */
export const SUPPORTED = ['en', 'de', 'fr', 'es'];
/** Offered as well: the LLM writes them; the footer is English and replies go to the classifier. */
const MORE = ['it', 'pt', 'pt-BR', 'nl', 'pl', 'sv', 'da', 'nb', 'fi', 'cs', 'tr', 'el', 'ru', 'uk', 'ar', 'he', 'hi', 'ja', 'ko', 'zh-Hans', 'zh-Hant'];

export function canonicalTag(tag: string | null | undefined): string | null {
  if (!tag) return null;
  try {
    const [c] = Intl.getCanonicalLocales(tag);
    return c && /^[a-z]{2,3}(-|$)/i.test(c) && !/^(und|zxx|mul|mis|q[a-t][a-z])(-|$)/i.test(c) && c.length <= 35 ? c : null;
  } catch {
    return null;
  }
}

/** The browser's language, the default for a new subscription ("en" when it gives none we accept). */
export function browserLanguage(): string {
  return (typeof navigator !== 'undefined' && canonicalTag(navigator.language)) || 'en';
}

/** "Deutsch (Österreich)": a tag named in its own language; the tag itself when the browser cannot. */
export function languageLabel(tag: string): string {
  try {
    const own = new Intl.DisplayNames([tag], { type: 'language' }).of(tag);
    return own ? own.charAt(0).toLocaleUpperCase(tag) + own.slice(1) : tag;
  } catch {
    return tag;
  }
}

/** The tags to offer: the selected one and the browser's first, then ours, then the others. */
export function languageOptions(selected: string): string[] {
  const browser = typeof navigator !== 'undefined' ? [...(navigator.languages ?? []), navigator.language] : [];
  const tags = [selected, ...browser, ...SUPPORTED, ...MORE].map(canonicalTag).filter((t): t is string => !!t);
  return [...new Set(tags)];
}
