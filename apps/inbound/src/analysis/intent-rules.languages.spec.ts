/**
 * The reply rules for the languages we write letters in (libs/contracts SUPPORTED_LANGUAGES: en,
 * de, fr, es; docs/architecture.md §4.3): for each, the everyday ways to say "done", "pause" (with
 * and without a length or a date) and "unsubscribe", formal and informal. Anything the rules do not
 * settle goes to the LLM classifier, whose prompt says the reply may be in any language.
 */
import { ruleIntent, UNSUBSCRIBE_MIN_CONFIDENCE } from './intent-rules';

// Thursday 26 November 2026, 10:30 in Berlin.
const ctx = { now: new Date('2026-11-26T09:30:00Z'), timezone: 'Europe/Berlin' };

type Case = [text: string, pauseUntil?: string];
const LANGUAGES: Record<'en' | 'de' | 'fr' | 'es', { done: string[]; pause: Case[]; unsubscribe: string[]; notes: string[] }> = {
  en: {
    done: ['Done', 'done!', 'Did it', 'I did it.', 'Finished', 'Completed', 'All done', 'I have done it', "I've finished it", 'Done, thanks!', 'Yes, done.'],
    pause: [['Pause for a week', '2026-12-03'], ['Please pause until Monday', '2026-11-30'], ['I am away until 5 December', '2026-12-05'], ['Skip the next 3 days', '2026-11-30'], ['Take a break for two weeks', '2026-12-10'], ['pause']],
    unsubscribe: ['Unsubscribe', 'Please unsubscribe me', 'Stop sending these emails', 'Remove me from this list', 'No more letters please', 'Cancel my subscription'],
    notes: ['I almost unsubscribed but I am glad I did not.', 'Not done yet, I will try tomorrow.', 'I was away until Monday, sorry for the silence.'],
  },
  de: {
    done: ['Erledigt', 'erledigt!', 'Geschafft', 'Gemacht', 'Fertig', 'Ich habe es gemacht', 'Hab ich gemacht', 'Habe die Übung gemacht', 'Ja, erledigt.', 'Erledigt, danke!', 'Alles erledigt'],
    pause: [['Pause für eine Woche', '2026-12-03'], ['Bitte pausieren bis Montag', '2026-11-30'], ['Ich bin im Urlaub bis zum 5. Dezember', '2026-12-05'], ['Bitte zwei Wochen aussetzen', '2026-12-10'], ['Ich mache eine Pause für 3 Tage', '2026-11-29'], ['Bitte pausieren']],
    unsubscribe: ['Abmelden', 'Bitte abmelden', 'Bitte melden Sie mich ab', 'Ich möchte mich abmelden', 'Trag mich bitte aus', 'Keine E-Mails mehr bitte', 'Bitte abbestellen', 'Hört auf, mir zu schreiben', 'Ich will keine Briefe mehr bekommen'],
    notes: ['Ich hätte mich fast abgemeldet, bin aber froh, dass ich es nicht getan habe.', 'Noch nicht erledigt, morgen.', 'Ich war bis Montag im Urlaub.'],
  },
  fr: {
    done: ['Fait', 'Fait !', "C'est fait", 'Terminé', 'Fini', "J'ai fait l'exercice", "J'ai fini", 'Oui, fait.', "C'est fait, merci !", 'Tout est fait'],
    pause: [['Pause pour une semaine', '2026-12-03'], ["Mettez en pause jusqu'à lundi", '2026-11-30'], ["Je suis en vacances jusqu'au 5 décembre", '2026-12-05'], ['Faire une pause de deux semaines', '2026-12-10'], ['Suspendre pendant 3 jours', '2026-11-29'], ['Pause s’il vous plaît']],
    unsubscribe: ['Se désabonner', 'Je veux me désabonner', 'Désabonnez-moi', 'Merci de me désinscrire', 'Je ne veux plus recevoir ces e-mails', 'Arrêtez de m’envoyer ces lettres', 'Arrêtez les e-mails', 'Retirez-moi de la liste'],
    notes: ["J'ai failli me désabonner, mais je suis content de ne pas l'avoir fait.", 'Je ne veux pas recevoir de lettre le dimanche, est-ce possible ?', 'Pas encore fait, demain.', "J'étais en vacances jusqu'à lundi."],
  },
  es: {
    done: ['Hecho', '¡Hecho!', 'Listo', 'Lo hice', 'Ya lo hice', 'Terminado', 'Completado', 'He terminado', 'Sí, hecho.', '¡Listo, gracias!', 'Todo hecho'],
    pause: [['Pausa por una semana', '2026-12-03'], ['Por favor pausar hasta el lunes', '2026-11-30'], ['Estoy de vacaciones hasta el 5 de diciembre', '2026-12-05'], ['Pausa de dos semanas', '2026-12-10'], ['Suspender durante 3 días', '2026-11-29'], ['Pausa por favor']],
    unsubscribe: ['Darme de baja', 'Quiero darme de baja', 'Por favor, dadme de baja', 'No quiero recibir más correos', 'Dejen de enviarme estas cartas', 'Cancelar mi suscripción', 'Quitadme de la lista', 'Bórrenme de la lista'],
    notes: ['Casi me doy de baja, pero me alegro de no haberlo hecho.', 'Todavía no lo hice, mañana.', 'Estuve de vacaciones hasta el lunes.'],
  },
};

describe.each(Object.entries(LANGUAGES))('reply rules in %s', (_lang, t) => {
  it.each(t.done)('"%s" → done', (text) => {
    expect(ruleIntent(text, ctx)).toMatchObject({ intent: 'done' });
  });

  it.each(t.pause.map(([text, until]) => [text, until ?? null]))('"%s" → pause until %s', (text, until) => {
    const r = ruleIntent(text, ctx);
    expect(r).toMatchObject({ intent: 'pause' });
    if (until) expect(r!.pauseUntil).toBe(until);
  });

  it.each(t.unsubscribe)('"%s" → unsubscribe, confident enough to act', (text) => {
    const r = ruleIntent(text, ctx);
    expect(r).toMatchObject({ intent: 'unsubscribe' });
    expect(r!.confidence).toBeGreaterThanOrEqual(UNSUBSCRIBE_MIN_CONFIDENCE);
  });

  it.each(t.notes)('"%s" → not an unsubscribe, pause or done', (text) => {
    const r = ruleIntent(text, ctx);
    expect(r?.intent ?? 'note').not.toMatch(/^(?:unsubscribe|pause|done)$/);
  });
});
