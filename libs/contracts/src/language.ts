/**
 * The language a subscription's letters are written in (docs/architecture.md §3.3, letters in the
 * reader's language): a BCP 47 tag, stored canonical (Intl.getCanonicalLocales: "EN-us" → "en-US").
 *
 * Any well-formed tag with a real language subtag may be chosen: the LLM writes in it. The
 * languages below are the ones we support out of the box — translated footer chrome, reply rules
 * (apps/inbound/src/analysis/intent-rules.ts) and the quality guard's language check. Any other
 * language gets the admin's (English) footer, the LLM classifier for replies, and a guard that
 * checks only what it can (the script; see apps/composer/src/quality/language-check.ts).
 */
export const SUPPORTED_LANGUAGES = ['en', 'de', 'fr', 'es'] as const;
export type SupportedLanguage = (typeof SUPPORTED_LANGUAGES)[number];

export const DEFAULT_LANGUAGE = 'en';
/** RFC 5646 recommends buffers of at least 35 characters; longer tags are refused. */
export const MAX_LANGUAGE_TAG = 35;

/**
 * The canonical form of a tag, or null when it is not one we accept: malformed (Intl throws),
 * longer than MAX_LANGUAGE_TAG, private-use or grandfathered-only ("x-klingon", "i-default"),
 * private-use language codes qaa–qtz, or "und"/"zxx"/"mul"/"mis" (no language at all).
 */
export function canonicalLanguage(tag: string): string | null {
  if (typeof tag !== 'string' || !tag.trim() || tag.length > MAX_LANGUAGE_TAG) return null;
  let canonical: string;
  try {
    [canonical] = Intl.getCanonicalLocales(tag.trim());
  } catch {
    return null;
  }
  if (!canonical || canonical.length > MAX_LANGUAGE_TAG) return null;
  const primary = canonical.split('-')[0].toLowerCase();
  if (!/^[a-z]{2,3}$/.test(primary) || ['und', 'zxx', 'mul', 'mis'].includes(primary)) return null;
  // qaa–qtz are reserved for private use: no writer could know what they mean.
  if (primary.length === 3 && primary >= 'qaa' && primary <= 'qtz') return null;
  return canonical;
}

/** The primary language subtag: "de-AT" → "de". */
export function primaryLanguage(tag: string | null | undefined): string {
  return (tag ?? DEFAULT_LANGUAGE).split('-')[0].toLowerCase() || DEFAULT_LANGUAGE;
}

/** One of the languages we support out of the box, or null ("de-CH" → "de", "pt-BR" → null). */
export function supportedLanguage(tag: string | null | undefined): SupportedLanguage | null {
  const p = primaryLanguage(tag);
  return (SUPPORTED_LANGUAGES as readonly string[]).includes(p) ? (p as SupportedLanguage) : null;
}

/** The language's English name for prompts and logs ("de-AT" → "Austrian German"); the tag itself if unknown. */
export function languageName(tag: string, inLanguage = 'en'): string {
  try {
    return displayNames(inLanguage).of(tag) ?? tag;
  } catch {
    return tag;
  }
}

// Building an Intl.DisplayNames loads ICU data (a tenth of a millisecond); one per display language.
const DISPLAY_NAMES = new Map<string, Intl.DisplayNames>();
function displayNames(inLanguage: string): Intl.DisplayNames {
  let names = DISPLAY_NAMES.get(inLanguage);
  if (!names) {
    names = new Intl.DisplayNames([inLanguage], { type: 'language', fallback: 'code' });
    if (DISPLAY_NAMES.size < 64) DISPLAY_NAMES.set(inLanguage, names);
  }
  return names;
}

/**
 * The footer's chrome in the languages we support out of the box (docs/architecture.md §3.4,
 * footer language). English is the admin-edited `email_footer` (the console's editor); these
 * translations are built in and carry the same placeholders. A letter in any other language
 * gets the English footer.
 */
export const TRANSLATED_FOOTERS: Readonly<Record<Exclude<SupportedLanguage, 'en'>, { text: string; html: string }>> = {
  de: footer({
    why: 'Du erhältst diese E-Mail, weil du {{topic_name}} bei Mentor Zero abonniert hast.',
    reply: 'Antworte auf diese E-Mail und erzähl deinem Mentor, wie es lief: „erledigt“, eine Notiz oder „Pause für eine Woche“.',
    settings: 'Deine Einstellungen',
    unsubscribe: '{{topic_name}} abbestellen',
  }),
  fr: footer({
    why: 'Vous recevez cet e-mail parce que vous êtes abonné·e à {{topic_name}} sur Mentor Zero.',
    reply: 'Répondez à cet e-mail pour dire à votre mentor comment cela s’est passé : « fait », une note, ou « pause pour une semaine ».',
    settings: 'Vos réglages',
    unsubscribe: 'Se désabonner de {{topic_name}}',
  }),
  es: footer({
    why: 'Recibes este correo porque te suscribiste a {{topic_name}} en Mentor Zero.',
    reply: 'Responde a este correo para contarle a tu mentor cómo te fue: «hecho», una nota o «pausa por una semana».',
    settings: 'Tus ajustes',
    unsubscribe: 'Darte de baja de {{topic_name}}',
  }),
};

function footer(w: { why: string; reply: string; settings: string; unsubscribe: string }): { text: string; html: string } {
  return {
    text: ['—', w.why, w.reply, `${w.settings}: {{login_link}}`, `${w.unsubscribe}: {{unsubscribe_link}}`].join('\n'),
    html: [
      '<p style="color:#6b6b6b;font-size:13px;line-height:1.5;border-top:1px solid #e5e1da;padding-top:12px">',
      `${w.why}<br>`,
      `${w.reply}<br>`,
      `<a href="{{login_link}}">${w.settings}</a> · <a href="{{unsubscribe_link}}">${w.unsubscribe}</a>`,
      '</p>',
    ].join('\n'),
  };
}

/**
 * The footer template for a letter in `language`: the built-in translation for a supported
 * language other than English, else the admin's footer (`english`, the active email_footer).
 */
export function footerForLanguage<T extends { textTemplate: string; htmlTemplate: string }>(
  language: string | null | undefined,
  english: T,
): { textTemplate: string; htmlTemplate: string; language: string } {
  const lang = supportedLanguage(language);
  if (lang && lang !== 'en') return { textTemplate: TRANSLATED_FOOTERS[lang].text, htmlTemplate: TRANSLATED_FOOTERS[lang].html, language: lang };
  return { textTemplate: english.textTemplate, htmlTemplate: english.htmlTemplate, language: 'en' };
}
