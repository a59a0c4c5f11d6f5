/**
 * The keyword pre-filters of intent-rules.ts must never change a result: a sentence skips the
 * unsubscribe or pause rules only when none of their keywords is in it, so each keyword list
 * must be in every match of its rules. Checked three ways: per rule over many phrasings (one or
 * more per alternative of every rule, and every rule must be hit by one), per rule over the fixture
 * corpus and the unit spec's texts, and as whole results with and without the filters.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { extractReplyText, MessageParser } from './index';
import { KEYWORD_GATES, ruleIntent, ruleIntentUnfiltered, warmRules } from './intent-rules';

const FIXTURES = join(__dirname, '../../../../test/fixtures/replies');
const context: { now: string; timezone: string; substitutions: Record<string, string> } = JSON.parse(readFileSync(join(FIXTURES, 'context.json'), 'utf8'));
const manifest: { file: string }[] = JSON.parse(readFileSync(join(FIXTURES, 'manifest.json'), 'utf8'));

const CONTEXTS = [
  { now: new Date(context.now), timezone: context.timezone },
  { now: new Date('2026-11-26T09:30:00Z'), timezone: 'Europe/Berlin' }, // intent-rules.spec's
];

// At least one phrasing per alternative of each gated rule, lowercased as the rules see text.
const PHRASES: Record<string, string[]> = {
  unsubscribe: [
    'unsubscribe', 'please unsubscribe', 'pls unsubscribe', 'kindly unsubscribe',
    'please remove me', 'pls take me off', 'kindly stop emailing', 'just stop the letters', 'please stop sending', 'please stop mailing',
    'please stop the mails', 'please opt me out', 'just unsubscribe',
    'unsubscribe me now',
    "i'd like to unsubscribe", 'we want to opt out', 'i wish to stop receiving these', 'i need to stop getting your', 'we have to unsubscribe',
    'i would like to stop receiving the',
    'can you please remove me', 'could you unsubscribe me', 'would you remove me',
    'stop sending', 'stop emailing', 'stop mailing',
    'stop these messages', 'stop your emails', 'stop the letters', 'stop the mails',
    'stop', 'please stop!!', 'stop.',
    'remove me from the list', 'remove me', 'take me off', 'opt me out', 'cancel my subscription',
    'no more letters', 'no more emails', 'no more mails', 'no more messages',
    "don't send me any", 'do not email me', 'do not mail me',
    'abmelden', 'abbestellen', 'austragen',
    'melde mich bitte ab', 'meldet mich ab', 'melden sie mich ab', 'trag mich aus', 'trage mich aus', 'tragt mich aus', 'tragen sie mich hier aus',
    'keine e-mails mehr', 'keine emails mehr', 'keine mails mehr', 'keine nachrichten mehr', 'keine briefe mehr',
    'désabonner', 'désabonnez', 'désabonnement', 'désinscrire', 'désinscrivez', 'désinscription', 'ne plus recevoir', 'ne pas recevoir',
    "arrêtez de m'envoyer", 'arrêtez les e-mails', 'arrêtez les mails', 'arrêtez les messages', 'arrêtez les lettres',
    'darme de baja', 'darse de baja', 'dar de baja', 'dadme de baja', 'denme de baja', 'dejen de enviar', 'no quiero recibir más',
    'cancelar mi suscripción', 'cancelar la suscripción',
    'disiscrivimi', 'disiscrivermi', 'disiscrivere', 'cancellami', 'afmelden', 'uitschrijven', 'meld me af', 'descadastrar', 'descadastre-me',
    'cancelar a inscrição', 'cancelar minha inscrição',
    'trag mich bitte aus', 'hört auf, mir zu schreiben', 'hör auf mir zu senden', 'hören sie bitte auf, uns zu schicken', 'hört auf uns mailen',
    'je ne veux plus recevoir', 'ne souhaite plus recevoir', 'ne désire plus recevoir',
    'retirez-moi de la liste', 'supprimez-moi de votre liste', 'enlevez-moi de cette liste', 'rayez moi de vos listes',
    'quitadme de la lista', 'quítenme de su lista', 'bórrame de esta lista', 'sácame de tu lista', 'sacadme de vuestra lista', 'borrenme de sus listas',
    '配信停止', '購読解除', '登録解除', '配信を停止してください',
    // UNSUB_MENTION alone
    'i unsubscribed', 'opt-out', 'optout', 'opt out', 'die abmeldung', 'abbestellt', 'désabonné', 'désinscrit', 'me di de baja', 'uitschrijving',
    'afmelding',
  ],
  pause: [
    'pause', 'pausing', 'paused', 'hold off', 'put it on hold', 'put them on hold', 'put this on hold', 'put my letters on hold', 'take a break',
    'a break from', 'no letters', 'no emails', 'no mails', "don't send", 'do not send', 'stop sending',
    'skip the letters', 'skip my emails', 'skip your mails', 'skip letter', 'skip email', 'skip mail', 'skip today', 'skip tomorrow', 'skip next',
    'skip a day', 'skip a week', 'skip 3', 'skip one', 'skip two', 'skip three', 'skip a few',
    'pausieren', 'pausiere', 'aussetzen', 'keine briefe', 'pausa', 'pausar', 'suspend', 'suspendre', 'suspender', 'mettre en pause', 'faire une pause',
    'away', 'vacation', 'holiday', 'holidays', 'traveling', 'travelling', 'on a trip', 'offline', 'out of town', 'out of office', 'on leave',
    'back on', 'back', 'returning', 'unavailable', 'urlaub', 'verreist', 'unterwegs', 'weg', 'abwesend', 'nicht da', 'zurück', 'vacances',
    'en voyage', 'en déplacement', 'absent', 'absente', 'de retour', 'vacaciones', 'de viaje', 'fuera', 'ausente', 'de vuelta', 'vuelvo',
    'skip the next 3 days', 'skip the next two letters', 'skip 2 letters', 'skip four days',
  ],
};

/** Every string literal of intent-rules.spec.ts: its phrasings, in their original case. */
function unitSpecTexts(): string[] {
  const src = readFileSync(join(__dirname, 'intent-rules.spec.ts'), 'utf8');
  const out: string[] = [];
  for (const m of src.matchAll(/'((?:[^'\\\n]|\\.)*)'|"((?:[^"\\\n]|\\.)*)"/g)) {
    const raw = m[1] ?? m[2];
    out.push(raw.replace(/\\(.)/g, '$1'));
  }
  return out.filter((t) => t.trim());
}

function fixtureRaw(file: string): Buffer {
  let s = readFileSync(join(FIXTURES, file)).toString('latin1');
  for (const [placeholder, value] of Object.entries(context.substitutions)) s = s.split(placeholder).join(value);
  return Buffer.from(s, 'latin1');
}

/** Pieces of a text the rules may see: the whole, lowercased, and split roughly into sentences. */
function pieces(text: string): string[] {
  const lower = text.normalize('NFC').toLowerCase().replace(/[’‘`´]/g, "'");
  return [text, lower, ...lower.split(/[\n.!?。！？]+/)].map((s) => s.trim()).filter(Boolean);
}

describe('intent-rules keyword pre-filters', () => {
  let fixtureTexts: string[] = [];
  const parser = new MessageParser({ poolSize: 2 });

  beforeAll(async () => {
    const parsed = await Promise.all(manifest.map((e) => parser.parse(fixtureRaw(e.file)).catch(() => null)));
    fixtureTexts = parsed.flatMap((m) => (m ? [extractReplyText(m), ...(m.html ? [extractReplyText({ ...m, text: '' })] : [])] : [])).filter(Boolean);
  });
  afterAll(() => parser.close());

  it('keywords are lowercase NFC, as the text they are looked for in', () => {
    for (const gate of KEYWORD_GATES) {
      for (const k of gate.keywords) expect(k).toBe(k.normalize('NFC').toLowerCase());
    }
  });

  it('every rule behind a gate is hit by at least one phrasing here (add one with each new rule)', () => {
    for (const gate of KEYWORD_GATES) {
      gate.rules.forEach((re, i) => {
        expect({ gate: gate.name, rule: i, hit: PHRASES[gate.name].some((p) => re.test(p)) }).toEqual({ gate: gate.name, rule: i, hit: true });
      });
    }
  });

  it('whatever a gated rule matches contains one of its keywords', () => {
    expect(fixtureTexts.length).toBeGreaterThan(40);
    const texts = [...Object.values(PHRASES).flat(), ...unitSpecTexts(), ...fixtureTexts].flatMap(pieces);
    const misses: string[] = [];
    for (const gate of KEYWORD_GATES) {
      for (const s of texts) {
        const hit = gate.rules.findIndex((re) => re.test(s));
        if (hit >= 0 && !gate.keywords.some((k) => s.includes(k))) misses.push(`${gate.name} rule ${hit}: ${s}`);
      }
    }
    expect(misses).toEqual([]);
  });

  it('ruleIntent gives the same result with and without the pre-filters', () => {
    const phrases = Object.values(PHRASES).flat();
    const capitalised = phrases.map((p) => p[0].toUpperCase() + p.slice(1));
    const inContext = phrases.map((p) => `Thanks for today's letter, it was good. ${p[0].toUpperCase()}${p.slice(1)} until Friday. Have a nice day!`);
    // Both families in one reply ("unsubscribe" and "pause" at once needs judgement).
    const mixed = PHRASES.unsubscribe.map((u, i) => `${u}. ${PHRASES.pause[i % PHRASES.pause.length]} for 2 weeks.`);
    const texts = [...fixtureTexts, ...unitSpecTexts(), ...phrases, ...capitalised, ...inContext, ...mixed];
    let decided = 0;
    for (const ctx of CONTEXTS) {
      for (const text of texts) {
        const filtered = ruleIntent(text, ctx);
        expect({ text, r: filtered }).toEqual({ text, r: ruleIntentUnfiltered(text, ctx) });
        if (filtered?.intent === 'unsubscribe' || filtered?.intent === 'pause') decided++;
      }
    }
    expect(decided).toBeGreaterThan(200); // the corpus does reach the gated rules
  });

  it('warmRules leaves no state behind (global regexes reset), and may run twice', () => {
    const texts = [...fixtureTexts, ...unitSpecTexts()];
    const before = texts.map((t) => ruleIntent(t, CONTEXTS[0]));
    warmRules();
    warmRules();
    expect(texts.map((t) => ruleIntent(t, CONTEXTS[0]))).toEqual(before);
  });
});
