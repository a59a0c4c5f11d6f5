import { analyseReply, extractFromText, type OurLetter } from './extract-reply';
import { ruleIntent } from './intent-rules';

/**
 * Our own reply corpus: every client layout and language we know of, our letter quoted back in
 * each client's style, HTML-only bodies, inline answers and format=flowed text, each with the
 * exact text the subscriber wrote. Written here from how the clients lay replies out (not taken
 * from another project's fixtures); the peer suites are measured by scripts/peer-eval against
 * their own repositories (README.md, "Measured against the peer suites").
 */

const LETTER_TEXT = [
  'Dear Sam,',
  '',
  "Today's practice: write down the worst case of the thing you fear, then what you would do if it really happened.",
  '',
  'Seneca wrote to Lucilius that we suffer more often in imagination than in reality. Try it for ten minutes before lunch and tell me what you noticed.',
  '',
  'Your mentor',
].join('\n');
const QUOTE = '“Luck is what happens when preparation meets opportunity.” — Seneca';
const FOOTER = [
  '—',
  'You are receiving this because you subscribed to Resilience on Mentor Zero.',
  'Reply to this email to tell your mentor how it went: "done", a note, or "pause for a week".',
  'Your settings: https://mentor.example/login/Qm7nB2vX9cZ4lK8jH3gF6dS1aP0oI5uY',
  'Unsubscribe from Resilience: https://mentor.example/u/Zk3h9QpL2mN8xR4tV7wY1bC5dF0gH6jK',
].join('\n');
/** The letter as the subscriber received it (mailer: body, closing quote, footer). */
const SENT = `${LETTER_TEXT}\n\n${QUOTE}\n\n${FOOTER}`;
const LETTER_HTML =
  "<p>Dear Sam,</p><p>Today's practice: write down the worst case of the thing you fear, then what you would do if it really happened.</p>" +
  '<p>Seneca wrote to Lucilius that we suffer more often in imagination than in reality. Try it for ten minutes before lunch and tell me what you noticed.</p><p>Your mentor</p>';
const SENT_HTML =
  `${LETTER_HTML}<p><i>${QUOTE}</i></p><hr><p>You are receiving this because you subscribed to Resilience on Mentor Zero.<br>` +
  'Reply to this email to tell your mentor how it went: "done", a note, or "pause for a week".<br>' +
  '<a href="https://mentor.example/login/Qm7nB2vX9cZ4lK8jH3gF6dS1aP0oI5uY">Your settings</a> · <a href="https://mentor.example/u/Zk3h9QpL2mN8xR4tV7wY1bC5dF0gH6jK">Unsubscribe from Resilience</a></p>';
const LETTER: OurLetter = { text: LETTER_TEXT, html: LETTER_HTML, extra: [QUOTE, FOOTER] };

/** "> " before every line, as clients quote (">" alone on blank lines). */
const gt = (text: string, marker = '> ') => text.split('\n').map((l) => (l ? `${marker}${l}` : marker.trim())).join('\n');
/** Re-wrapped at `width` columns, as plain-text clients send. */
function wrap(text: string, width = 72): string {
  return text
    .split('\n')
    .map((para) => {
      const out: string[] = [];
      let line = '';
      for (const w of para.split(' ')) {
        if (line && line.length + 1 + w.length > width) {
          out.push(line);
          line = w;
        } else line = line ? `${line} ${w}` : w;
      }
      out.push(line);
      return out.join('\n');
    })
    .join('\n');
}
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

interface Lang {
  lang: string;
  /** What the subscriber wrote. */
  reply: string;
  /** The client's attribution line above the quote. */
  attribution: string;
  /** Outlook's header labels: From, Sent, To, Subject. */
  labels: [string, string, string, string];
  /** The phone signature in that language. */
  mobile: string;
}

const ADDR = 'Mentor Zero <mentor@mentor.example>';
const LANGS: Lang[] = [
  { lang: 'en', reply: 'Done! I wrote the worst case down and it felt smaller.', attribution: `On Thu, Nov 26, 2026 at 7:00 AM ${ADDR} wrote:`, labels: ['From', 'Sent', 'To', 'Subject'], mobile: 'Sent from my iPhone' },
  { lang: 'de', reply: 'Erledigt! Ich habe den schlimmsten Fall aufgeschrieben.', attribution: `Am Do., 26. Nov. 2026 um 07:00 Uhr schrieb ${ADDR}:`, labels: ['Von', 'Gesendet', 'An', 'Betreff'], mobile: 'Von meinem iPhone gesendet' },
  { lang: 'fr', reply: "C'est fait, merci. J'ai écrit le pire scénario.", attribution: `Le jeu. 26 nov. 2026 à 07:00, ${ADDR} a écrit :`, labels: ['De ', 'Envoyé ', 'À ', 'Objet '], mobile: 'Envoyé de mon iPhone' },
  { lang: 'es', reply: 'Hecho. Escribí el peor caso y ya no parece tan grave.', attribution: `El jue, 26 nov 2026 a las 7:00, Mentor Zero (<mentor@mentor.example>) escribió:`, labels: ['De', 'Enviado', 'Para', 'Asunto'], mobile: 'Enviado desde mi iPhone' },
  { lang: 'it', reply: 'Fatto! Ho scritto il caso peggiore.', attribution: `Il giorno gio 26 nov 2026 alle ore 07:00 ${ADDR} ha scritto:`, labels: ['Da', 'Inviato', 'A', 'Oggetto'], mobile: 'Inviato da iPhone' },
  { lang: 'nl', reply: 'Gedaan, ik heb het ergste geval opgeschreven.', attribution: `Op do 26 nov. 2026 om 07:00 schreef ${ADDR}:`, labels: ['Van', 'Verzonden', 'Aan', 'Onderwerp'], mobile: 'Verstuurd vanaf mijn iPhone' },
  { lang: 'pt', reply: 'Feito! Escrevi o pior cenário.', attribution: `Em qui., 26 de nov. de 2026 às 07:00, ${ADDR} escreveu:`, labels: ['De', 'Enviado', 'Para', 'Assunto'], mobile: 'Enviado do meu iPhone' },
  { lang: 'sv', reply: 'Klart! Jag skrev ner det värsta scenariot.', attribution: `Den tors 26 nov. 2026 kl 07:00 skrev ${ADDR}:`, labels: ['Från', 'Skickat', 'Till', 'Ämne'], mobile: 'Skickat från min iPhone' },
  { lang: 'no', reply: 'Ferdig! Jeg skrev ned det verste som kunne skje.', attribution: `tor. 26. nov. 2026 kl. 07:00 skrev ${ADDR}:`, labels: ['Fra', 'Sendt', 'Til', 'Emne'], mobile: 'Sendt fra min iPhone' },
  { lang: 'da', reply: 'Færdig! Jeg skrev det værste scenarie ned.', attribution: `Den tors. 26. nov. 2026 kl. 07.00 skrev ${ADDR}:`, labels: ['Fra', 'Sendt', 'Til', 'Emne'], mobile: 'Sendt fra min iPhone' },
  { lang: 'fi', reply: 'Tehty! Kirjoitin pahimman vaihtoehdon ylös.', attribution: `to 26. marrask. 2026 klo 7.00 ${ADDR} kirjoitti:`, labels: ['Lähettäjä', 'Lähetetty', 'Vastaanottaja', 'Aihe'], mobile: 'Lähetetty iPhonesta' },
  { lang: 'pl', reply: 'Zrobione! Zapisałem najgorszy scenariusz.', attribution: `W dniu czw., 26.11.2026 o 07:00 ${ADDR} napisał(a):`, labels: ['Od', 'Wysłano', 'Do', 'Temat'], mobile: "Wysłane z iPhone'a" },
  { lang: 'ru', reply: 'Готово! Записал худший сценарий.', attribution: `чт, 26 нояб. 2026 г. в 07:00, ${ADDR}:`, labels: ['От', 'Отправлено', 'Кому', 'Тема'], mobile: 'Отправлено с iPhone' },
  { lang: 'uk', reply: 'Готово! Записала найгірший сценарій.', attribution: `чт, 26 лист. 2026 р. о 07:00 ${ADDR} пише:`, labels: ['Від', 'Надіслано', 'Кому', 'Тема'], mobile: 'Надіслано з iPhone' },
  { lang: 'ca', reply: 'Fet! He escrit el pitjor cas.', attribution: `El dj., 26 de nov. 2026 a les 7:00, Mentor Zero (<mentor@mentor.example>) va escriure:`, labels: ['De', 'Enviat', 'Per a', 'Assumpte'], mobile: 'Enviat des del meu iPhone' },
  { lang: 'zh', reply: '完成了！我写下了最坏的情况。', attribution: `${ADDR} 于2026年11月26日周四 07:00写道：`, labels: ['发件人', '发送时间', '收件人', '主题'], mobile: '发自我的iPhone' },
  { lang: 'ja', reply: 'できました。最悪の場合を書き出しました。', attribution: `2026年11月26日(木) 7:00 ${ADDR}:`, labels: ['差出人', '送信日時', '宛先', '件名'], mobile: 'iPhoneから送信' },
  { lang: 'ko', reply: '완료했어요! 최악의 경우를 적어 보았습니다.', attribution: `2026년 11월 26일 (목) 오전 7:00, ${ADDR}님이 작성:`, labels: ['보낸 사람', '보낸 날짜', '받는 사람', '제목'], mobile: '나의 iPhone에서 보냄' },
  { lang: 'vi', reply: 'Xong rồi! Tôi đã viết ra trường hợp xấu nhất.', attribution: `Vào Th 5, 26 thg 11, 2026 vào lúc 07:00 ${ADDR} đã viết:`, labels: ['Từ', 'Đã gửi', 'Đến', 'Chủ đề'], mobile: 'Gửi từ iPhone của tôi' },
  { lang: 'hu', reply: 'Kész! Leírtam a legrosszabb esetet.', attribution: `${ADDR} ezt írta (időpont: 2026. nov. 26., Cs, 7:00):`, labels: ['Feladó', 'Elküldve', 'Címzett', 'Tárgy'], mobile: 'iPhone-ról küldve' },
  { lang: 'cs', reply: 'Hotovo! Sepsal jsem nejhorší scénář.', attribution: `čt 26. 11. 2026 v 7:00 odesílatel ${ADDR} napsal:`, labels: ['Od', 'Odesláno', 'Komu', 'Předmět'], mobile: 'Odesláno z iPhonu' },
  { lang: 'tr', reply: 'Tamamlandı! En kötü senaryoyu yazdım.', attribution: `${ADDR}, 26 Kas 2026 Per, 07:00 tarihinde şunu yazdı:`, labels: ['Kimden', 'Gönderildi', 'Kime', 'Konu'], mobile: 'iPhone’umdan gönderildi' },
];

const headerBlock = (l: Lang) =>
  `${l.labels[0]}: ${ADDR}\n${l.labels[1]}: 26.11.2026 07:00\n${l.labels[2]}: Sam <sam@example.com>\n${l.labels[3]}: Resilience — day 3`;

/** Each case runs with and without our letter: the general rules alone must get it right. */
function expectBoth(body: string, expected: string, opts: { html?: boolean } = {}): void {
  const m = opts.html ? { text: '', html: body } : { text: body, html: null };
  expect(analyseReply(m).text).toBe(expected);
  expect(analyseReply(m, LETTER).text).toBe(expected);
}

describe('reply corpus: attribution above the quoted letter, per language', () => {
  it.each(LANGS.map((l) => [l.lang, l] as const))('%s: ">"-quoted (Gmail, Apple Mail, Thunderbird)', (_lang, l) => {
    expectBoth(`${l.reply}\n\n${l.attribution}\n\n${gt(wrap(SENT))}\n`, l.reply);
  });

  it.each(LANGS.map((l) => [l.lang, l] as const))('%s: the original pasted unquoted under the attribution', (_lang, l) => {
    expectBoth(`${l.reply}\n\n${l.attribution}\n\n${SENT}\n`, l.reply);
  });

  it.each(LANGS.map((l) => [l.lang, l] as const))('%s: HTML-only, attribution over a bare <blockquote>', (_lang, l) => {
    expectBoth(`<div dir="ltr">${esc(l.reply)}</div><br><div>${esc(l.attribution)}<br></div><blockquote style="margin:0 0 0 .8ex">${SENT_HTML}</blockquote>`, l.reply, { html: true });
  });

  it.each(LANGS.map((l) => [l.lang, l] as const))('%s: the attribution wrapped over two lines (Gmail at 78 columns)', (_lang, l) => {
    const at = l.attribution.lastIndexOf(' <');
    const split = at > 0 ? `${l.attribution.slice(0, at)} <\n${l.attribution.slice(at + 2)}` : l.attribution;
    expectBoth(`${l.reply}\n\n${split}\n\n${gt(SENT)}\n`, l.reply);
  });
});

describe('reply corpus: Outlook header blocks, per language', () => {
  it.each(LANGS.map((l) => [l.lang, l] as const))('%s: rule, "From/Sent/To/Subject" labels, original unquoted', (_lang, l) => {
    expectBoth(`${l.reply}\n\n________________________________\n${headerBlock(l)}\n\n${SENT}\n`, l.reply);
  });

  it.each(LANGS.map((l) => [l.lang, l] as const))('%s: HTML-only, header in a bordered div (Outlook desktop)', (_lang, l) => {
    const header = headerBlock(l).split('\n').map((h) => `<b>${esc(h.split(':')[0])}:</b>${esc(h.slice(h.indexOf(':') + 1))}<br>`).join('');
    expectBoth(`<p>${esc(l.reply)}</p><div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm"><p>${header}</p></div>${SENT_HTML}`, l.reply, { html: true });
  });
});

describe('reply corpus: phone signatures, per language', () => {
  it.each(LANGS.map((l) => [l.lang, l] as const))('%s: the phone signature under the answer', (_lang, l) => {
    expectBoth(`${l.reply}\n\n${l.mobile}\n\n${l.attribution}\n${gt(SENT)}\n`, l.reply);
  });
});

describe('reply corpus: our letter recognised without any attribution', () => {
  it.each(LANGS.map((l) => [l.lang, l] as const))('%s: the letter pasted below, re-wrapped at 66 columns, no header', (_lang, l) => {
    const body = `${l.reply}\n\n${wrap(SENT, 66)}\n`;
    const r = analyseReply({ text: body, html: null }, LETTER);
    expect(r).toMatchObject({ text: l.reply, letterFound: true });
  });
});

describe('reply corpus: client layouts', () => {
  const reply = 'Done — ten minutes before lunch, and it helped.';
  it.each([
    ['Gmail ISO date', `2026-11-26 7:00 GMT+01:00 ${ADDR}:\n${gt(SENT)}`],
    ['Gmail of old', `2026/11/26 ${ADDR}\n${gt(SENT)}`],
    ['Android "---- wrote ----"', `---- Mentor Zero wrote ----\n\n${SENT}`],
    ['Zoho dash-wrapped', `---- On Thu, 26 Nov 2026 07:00:00 +0100 Mentor Zero <mentor@mentor.example> wrote ----\n\n${SENT}`],
    ['Zimbra', `----- Mail original -----\nDe: "Mentor Zero" <mentor@mentor.example>\nÀ: "Sam" <sam@example.com>\nEnvoyé: Jeudi 26 Novembre 2026 07:00:00\nObjet: Resilience\n\n${SENT}`],
    ['Zimbra (leading dash attribution)', `- Le 2026-11-26 07:00, Mentor Zero a écrit :\n${gt(SENT)}`],
    ['Yahoo', `On Thursday, November 26, 2026, 07:00:00 AM GMT+1, Mentor Zero <mentor@mentor.example> wrote:\n\n\n${SENT}`],
    ['mail.ru', `Четверг, 26 ноября 2026, 7:00 +03:00 от Mentor Zero <mentor@mentor.example>:\n\n${SENT}`],
    ['Yandex', `26.11.2026, 07:00, "Mentor Zero" <mentor@mentor.example>:\n${gt(SENT)}`],
    ['Outlook "-----Original Message-----"', `-----Original Message-----\nFrom: ${ADDR}\nSent: Thursday, November 26, 2026 7:00 AM\n\n${SENT}`],
    ['"-----Reply Message-----"', `-----Reply Message-----\nFrom: ${ADDR}\n\n${SENT}`],
    ['German "-----Ursprüngliche Nachricht-----"', `-----Ursprüngliche Nachricht-----\nVon: ${ADDR}\n\n${SENT}`],
    ['Danish "-------- Oprindelig besked --------"', `-------- Oprindelig besked --------\n${SENT}`],
    ['French "De : / À : / Sujet :"', `De : ${ADDR}\nÀ : sam@example.com\nSujet : Resilience\n\n${SENT}`],
    ['a lone "From:" with an address', `From: ${ADDR}\n\n${SENT}`],
    ['"Date:" and "To:" only', `Date: Thu, 26 Nov 2026 07:00:00 +0100\nTo: sam@example.com\n\n${SENT}`],
    ['Russian Outlook', `От: ${ADDR}\nОтправлено: 26 ноября 2026 г. 7:00\nКому: sam@example.com\nТема: Resilience\n\n${SENT}`],
    ['Forwarded to the mentor', `---------- Forwarded message ---------\nFrom: ${ADDR}\nDate: Thu, Nov 26, 2026 at 7:00 AM\n\n${SENT}`],
    ['Apple "Begin forwarded message:"', `Begin forwarded message:\n\nFrom: ${ADDR}\n\n${SENT}`],
  ])('%s', (_client, tail) => {
    expectBoth(`${reply}\n\n${tail}\n`, reply);
  });

  it('attribution split over three lines with the address alone', () => {
    expectBoth(`${reply}\n\nOn Thu, Nov 26, 2026 at 7:00 AM Mentor Zero from the\nMentor Zero team <\nmentor@mentor.example> wrote:\n\n${gt(SENT)}\n`, reply);
  });

  it('reply text and attribution on the same line', () => {
    expectBoth(`${reply}--- On Thu, Nov 26, 2026 at 7:00 AM, mentor@mentor.example wrote:\n${gt(SENT)}\n`, reply);
  });

  it('reply text and attribution on the same line, no dashes', () => {
    expectBoth(`${reply} On Thu, Nov 26, 2026 at 7:00 AM, mentor@mentor.example wrote:\n${gt(SENT)}\n`, reply);
  });

  it('an "AM" in the attribution is not an inline attribution start', () => {
    expectBoth(`${reply}\n\nOn Thu, Nov 26, 2026 at 7:00 AM Mentor Zero <mentor@mentor.example> wrote:\n${gt(SENT)}\n`, reply);
  });

  it('attribution scattered over short lines with blank lines between (Polymail)', () => {
    expectBoth(`${reply}\n\nOn Thu, Nov 26, 2026 at 7:00 AM Mentor Zero\n\n<\nmailto:Mentor Zero <mentor@mentor.example>\n> wrote:\n${SENT}\n`, reply);
  });

  it('a quoted line broken before a link, the link line without its marker', () => {
    expectBoth(`${reply}\n\nOn Thu, Nov 26, 2026 at 7:00 AM Mentor Zero <mentor@mentor.example> wrote:\n>\n> Your settings\n>\n (https://mentor.example/login/Qm7nB2vX9cZ4lK8jH3gF6dS1aP0oI5uY) >\n> ${LETTER_TEXT.split('\n\n')[1]}\n>\n`, reply);
  });

  it('an <hr> followed by "Date:" (HTML-only)', () => {
    expectBoth(`<div>${esc(reply)}</div><hr><div>Date: Thu, 26 Nov 2026 07:00<br>From: ${esc(ADDR)}<br>To: sam@example.com</div>${SENT_HTML}`, reply, { html: true });
  });

  it.each([
    ['Gmail', `<div dir="ltr">${esc(reply)}</div><div class="gmail_quote"><div class="gmail_attr">On Thu, Nov 26, 2026 at 7:00 AM ${esc(ADDR)} wrote:<br></div><blockquote class="gmail_quote">${SENT_HTML}</blockquote></div>`],
    ['Apple Mail', `<div>${esc(reply)}</div><div><br><blockquote type="cite"><div>On 26 Nov 2026, at 07:00, ${esc(ADDR)} wrote:</div>${SENT_HTML}</blockquote></div>`],
    ['Thunderbird', `<p>${esc(reply)}</p><div class="moz-cite-prefix">On 26/11/2026 07:00, Mentor Zero wrote:<br></div><blockquote type="cite" cite="mid:mz.x@mentor.example">${SENT_HTML}</blockquote>`],
    ['Outlook on the web', `<div>${esc(reply)}</div><div id="appendonsend"></div><hr><div id="divRplyFwdMsg"><b>From:</b> ${esc(ADDR)}<br><b>Sent:</b> Thursday, November 26, 2026 7:00 AM</div>${SENT_HTML}`],
    ['Yahoo', `<div>${esc(reply)}</div><div class="ydp3f2c1yahoo_quoted"><div>On Thursday, November 26, 2026, 07:00:00 AM GMT+1, ${esc(ADDR)} wrote:</div>${SENT_HTML}</div>`],
    ['Outlook for iOS', `<div>${esc(reply)}</div><div id="ms-outlook-mobile-signature">Get <a href="https://aka.ms/o0ukef">Outlook for iOS</a></div><hr><div id="divRplyFwdMsg"><b>From:</b> ${esc(ADDR)}</div>${SENT_HTML}`],
    ['ProtonMail', `<div>${esc(reply)}</div><div class="protonmail_quote">On Thursday, November 26th, 2026 at 07:00, ${esc(ADDR)} wrote:<br><blockquote class="protonmail_quote">${SENT_HTML}</blockquote></div>`],
  ])('HTML-only from %s', (_client, body) => {
    expectBoth(body, reply, { html: true });
  });
});

describe('reply corpus: signatures and sign-offs', () => {
  const reply = 'Paused my doubts for ten minutes. It worked.';
  it.each([
    ['RFC 3676 "-- "', `${reply}\n\n-- \nSam Example\nhttps://sam.example\n`],
    ['"--" trimmed', `${reply}\n--\nSam\n`],
    ['Regards block', `${reply}\n\nRegards,\n\nSam Example\nCEO @ Example !\n`],
    ['Mit freundlichen Grüßen', `${reply}\n\nMit freundlichen Grüßen\nSam Beispiel\n`],
    ['Cordialement', `${reply}\n\nCordialement,\nSam\n`],
    ['mailing-list footer', `${reply}\n\n_______________________________________________\nresilience mailing list\nresilience@lists.example\nhttps://lists.example/listinfo/resilience\n`],
    ['Sent from TypeApp', `${reply}\n\nSent with TypeApp\n`],
    ['Get Outlook for Android', `${reply}\n\nGet Outlook for Android<https://aka.ms/ghei36>\n`],
    ['Outlook für Android', `${reply}\n\nGesendet von Outlook für Android<https://aka.ms/ghei36>\n`],
    ['Outlook pour iOS', `${reply}\n\nEnvoyé à partir de Outlook pour iOS<https://aka.ms/o0ukef>\n`],
    ['BlackBerry', `${reply}\n\nSent from my BlackBerry® wireless device\n`],
    ['Mailbox', `${reply}\n\nSent from Mailbox\n`],
    ['"Sent from" a product with a name', `${reply}\n\nSent from Mail for Windows 10\n`],
    ['"Sent via" a product with a name', `${reply}\n\nSent via Superhuman\n`],
    ['"-Name" under the text', `${reply}\n\n-Sam Example\n`],
    ['"-Name" above a mailing-list footer', `${reply}\n\n-Sam\n\n\n_______________________________________________\nresilience mailing list\nresilience@lists.example\nhttps://lists.example/listinfo/resilience\n`],
  ])('%s', (_name, body) => {
    expectBoth(body, reply);
  });

  it.each([
    ['"Sent from my desk, …" is a sentence', 'Here is my answer.\n\nSent from my desk, which is much easier than my phone.'],
    ['"Thanks!" alone is the reply, not a sign-off', 'Thanks!'],
    ['a name under "Regards, Sam" on one line', 'Did it.\n\nRegards, Sam'],
    ['a rule of dashes inside the text', 'My list:\n----------\n1. wrote it down\n2. it shrank'],
    ['an em dash before my name', '🎉\n\n—\nSam'],
    ['"Sent from" something that names no product (a joke, not a device)', 'Did the ten minutes.\n\nSent from a magnificent torch of pixels'],
    ['a one-item list "- Journaling" (space after the dash)', 'What I kept:\n\n- Journaling'],
    ['a last list item "-Journaling" under other items', 'What I kept:\n-Walks\n\n-Journaling'],
  ])('keeps %s', (_name, body) => {
    expectBoth(body, body);
  });
});

describe('reply corpus: inline answers between paragraphs of our letter', () => {
  const [greeting, practice, seneca] = LETTER_TEXT.split('\n\n');
  const a1 = 'I picked my fear of public speaking.';
  const a2 = 'Ten minutes was enough; I noticed my shoulders relax.';

  it('">"-quoted, answers below each paragraph (Thunderbird, mutt)', () => {
    const body = `On 26/11/2026 07:00, Mentor Zero wrote:\n${gt(greeting)}\n>\n${gt(wrap(practice))}\n\n${a1}\n\n${gt(wrap(seneca))}\n\n${a2}\n\n${gt(FOOTER)}\n`;
    expectBoth(body, `${a1}\n\n${a2}`);
  });

  it('">"-quoted without an attribution line', () => {
    expectBoth(`${gt(wrap(practice))}\n${a1}\n\n${gt(wrap(seneca))}\n\n${a2}\n`, `${a1}\n\n${a2}`);
  });

  it('unquoted under an Outlook header: answers between our paragraphs kept (needs the letter)', () => {
    const body = `________________________________\nFrom: ${ADDR}\nSent: Thursday, November 26, 2026 7:00 AM\nTo: Sam\n\n${greeting}\n\n${practice}\n\n${a1}\n\n${seneca}\n\n${a2}\n\n${FOOTER}\n`;
    expect(analyseReply({ text: body, html: null }, LETTER)).toMatchObject({ text: `${a1}\n\n${a2}`, letterFound: true });
  });

  it('unquoted and re-wrapped, no header at all (needs the letter)', () => {
    const body = `${wrap(practice, 60)}\n\n${a1}\n\n${wrap(seneca, 60)}\n\n${a2}\n`;
    expect(analyseReply({ text: body, html: null }, LETTER).text).toBe(`${a1}\n\n${a2}`);
  });

  it('HTML-only: bare <blockquote>s of our paragraphs with answers between them', () => {
    const body = `<blockquote>${esc(practice)}</blockquote><div>${esc(a1)}</div><blockquote>${esc(seneca)}</blockquote><div>${esc(a2)}</div>`;
    expect(analyseReply({ text: '', html: body }, LETTER).text).toBe(`${a1}\n\n${a2}`);
  });

  it('quote markers of another client ("| ") and partly trimmed paragraphs (needs the letter)', () => {
    const trimmed = seneca.slice(0, seneca.indexOf(' Try it'));
    const body = `${gt(practice, '| ')}\n\n${a1}\n\n${gt(trimmed, '| ')}\n\n${a2}\n`;
    expect(analyseReply({ text: body, html: null }, LETTER).text).toBe(`${a1}\n\n${a2}`);
  });

  it('a trailing old thread below the last paragraph of our letter is history (needs the letter)', () => {
    const body = `From: ${ADDR}\nSent: Thursday\n\n${practice}\n\n${a1}\n\n${seneca}\n\nFrom: Sam\nSent: Monday\n\nAn older note of mine that was already read.\n`;
    expect(analyseReply({ text: body, html: null }, LETTER).text).toBe(a1);
  });

  it('a letter we cannot find in the reply changes nothing: history under a header stays history', () => {
    // The stored letter differs from what the reply quotes (another letter, an edited footer).
    const other: OurLetter = { text: 'Dear Sam,\n\nA different letter about gratitude journaling and evening walks in the park.' };
    const body = `${a1}\n\n________________________________\nFrom: ${ADDR}\nSent: Thursday\n\n${LETTER_TEXT}\n\n${FOOTER}\n`;
    expect(analyseReply({ text: body, html: null }, other)).toMatchObject({ text: a1, letterFound: false });
  });

  it('keeps a one-word answer that happens to be a word of our letter', () => {
    expect(analyseReply({ text: `Practice\n\n${gt(SENT)}`, html: null }, LETTER).text).toBe('Practice');
  });
});

describe('reply corpus: format=flowed (as the parser hands it over)', () => {
  it('Thunderbird flowed: the answer after the last quoted line stays', () => {
    expectBoth(`On 26/11/2026 07:00, Mentor Zero wrote:\n> ${LETTER_TEXT.split('\n\n')[2]} \nDone, and it helped: I wrote the worst case down and it shrank. \n`, 'Done, and it helped: I wrote the worst case down and it shrank.');
  });

  it('Apple Mail flowed, answer below the quote', () => {
    expectBoth(`> ${LETTER_TEXT.split('\n\n')[1]} \n\nI did it at 11:30. \n`, 'I did it at 11:30.');
  });

});

describe('reply corpus: when unsure, keep and say so', () => {
  it('a bare <blockquote> with no attribution and not our letter is kept and marked uncertain', () => {
    const r = analyseReply({ text: '', html: '<div>As Marcus Aurelius said:</div><blockquote>You have power over your mind, not outside events.</blockquote><div>That is my takeaway.</div>' }, LETTER);
    expect(r).toMatchObject({ text: 'As Marcus Aurelius said:\n\nYou have power over your mind, not outside events.\n\nThat is my takeaway.', uncertain: true, reasons: ['kept_unattributed_quote'] });
  });

  it('a Gmail-class <blockquote> with no attribution (a line quoted with the quote button) is kept and marked uncertain', () => {
    const html = '<div>My favourite line:</div><blockquote class="gmail_quote">You have power over your mind, not outside events.</blockquote>';
    for (const letter of [undefined, LETTER]) {
      expect(analyseReply({ text: '', html }, letter)).toMatchObject({
        text: 'My favourite line:\n\nYou have power over your mind, not outside events.',
        uncertain: true,
        reasons: ['kept_unattributed_quote'],
      });
    }
  });

  it('a ">" aside that is not our letter is kept when the letter is known', () => {
    const r = analyseReply({ text: 'My plan for tomorrow:\n\n> 10 minutes of writing before lunch\n\nWish me luck.', html: null }, LETTER);
    expect(r).toMatchObject({ text: 'My plan for tomorrow:\n\n> 10 minutes of writing before lunch\n\nWish me luck.', uncertain: true });
  });

  it('empty extraction over unexplained text is flagged, a plain empty reply is not', () => {
    const unexplained = analyseReply({ text: `On Thu, Nov 26, 2026 at 7:00 AM ${ADDR} wrote:\n\nsomething we cannot place here\n`, html: null });
    expect(unexplained).toMatchObject({ text: '', uncertain: true, reasons: ['empty_extraction'] });
    const empty = analyseReply({ text: `On Thu, Nov 26, 2026 at 7:00 AM ${ADDR} wrote:\n\n${gt(SENT)}\n`, html: null }, LETTER);
    expect(empty).toMatchObject({ text: '', uncertain: false });
  });
});

describe('reply corpus: forwards and the blocks around an <hr> (the own words; README)', () => {
  // A forward is someone else's mail: it reaches the rules, the LLM and the notes only through the
  // subscriber's own note above it (`text`; the full text keeps it apart, see "forwards kept
  // apart"). Read, its list footer ("Unsubscribe …") would be a request. With no note at all, the
  // own words are empty and flagged, so a person sees what was sent.
  const note = 'FYI, this is the newsletter I told you about.';
  const foreign = 'Ten ways to run faster this winter.\n\nUnsubscribe from Daily Running: https://news.example/unsub?id=42';
  const fwdHeader = 'From: Daily Running <news@running.example>\nDate: Thu, Dec 3, 2026 at 9:00 AM\nSubject: Winter running\nTo: sam@example.com';

  it('Gmail "Forwarded message" of someone else\'s mail: only the note above it', () => {
    expectBoth(`${note}\n\n---------- Forwarded message ---------\n${fwdHeader}\n\n${foreign}\n`, note);
  });

  it('Apple "Begin forwarded message:" of someone else\'s mail: only the note above it', () => {
    expectBoth(`${note}\n\nBegin forwarded message:\n\n${fwdHeader}\n\n${foreign}\n`, note);
  });

  it('HTML-only Gmail forward (the header in its gmail_quote container): only the note', () => {
    const html = `<div dir="ltr">${esc(note)}<br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">---------- Forwarded message ---------<br>From: <b class="gmail_sendername">Daily Running</b> &lt;news@running.example&gt;<br>Date: Thu, Dec 3, 2026 at 9:00 AM<br></div><br><p>Ten ways to run faster this winter.</p><p><a href="https://news.example/unsub?id=42">Unsubscribe</a></p></div></div>`;
    expectBoth(html, note, { html: true });
  });

  it('a forward with no note at all is empty and goes to review (empty_extraction), not read as content', () => {
    expect(analyseReply({ text: `---------- Forwarded message ---------\n${fwdHeader}\n\n${foreign}\n`, html: null })).toMatchObject({ text: '', uncertain: true, reasons: ['empty_extraction'] });
  });

  it('HTML-only Gmail forward with no note: empty, and a person reviews it (the forward is not silently dropped)', () => {
    const html = `<div dir="ltr"><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">---------- Forwarded message ---------<br>From: <b class="gmail_sendername">Daily Running</b> &lt;news@running.example&gt;<br>Date: Thu, Dec 3, 2026 at 9:00 AM<br></div><br><p>Ten ways to run faster this winter.</p></div></div>`;
    for (const letter of [undefined, LETTER]) {
      expect(analyseReply({ text: '', html }, letter)).toMatchObject({ text: '', uncertain: true, reasons: ['empty_extraction'] });
    }
  });

  it('HTML-only Gmail forward of our letter with a note: the note, and our letter is recognised in it', () => {
    const html = `<div dir="ltr">Did it with my sister tonight.<br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">---------- Forwarded message ---------<br>From: <b class="gmail_sendername">Mentor Zero</b> &lt;mentor@mentor.example&gt;<br>Date: Thu, Nov 26, 2026 at 7:00 AM<br>Subject: Resilience<br></div><br>${SENT_HTML}</div></div>`;
    expect(analyseReply({ text: '', html })).toMatchObject({ text: 'Did it with my sister tonight.', uncertain: false });
    expect(analyseReply({ text: '', html }, LETTER)).toMatchObject({ text: 'Did it with my sister tonight.', uncertain: false, letterFound: true });
  });

  it('HTML-only Apple Mail forward with no note (the header above a cite blockquote): empty, and a person reviews it', () => {
    const html = '<div><br><div>Begin forwarded message:</div><br><blockquote type="cite"><div><b>From: </b>Daily Running &lt;news@running.example&gt;</div><div><b>Subject: </b>Winter running</div><br><div>Ten ways to run faster this winter.</div></blockquote></div>';
    expect(analyseReply({ text: '', html })).toMatchObject({ text: '', uncertain: true, reasons: ['empty_extraction'] });
  });

  it('words written below a Gmail forward container stay (the forward goes to the text rules only when it ends the body)', () => {
    const fwd = `<div class="gmail_quote"><div dir="ltr" class="gmail_attr">---------- Forwarded message ---------<br>From: Daily Running &lt;news@running.example&gt;<br></div><br><p>Ten ways to run faster this winter.</p></div>`;
    expectBoth(`<div>${esc(note)}</div>${fwd}<div>My take: the third one is what I will try.</div>`, `${note}\n\nMy take: the third one is what I will try.`, { html: true });
  });

  it('a name written in the same <div> as the <hr> over a quoted header stays (only what follows the <hr> is history)', () => {
    const html = `<div><div>Done, and it helped.</div><div>Sam<hr><b>From:</b> ${esc(ADDR)}<br><b>Sent:</b> Thursday, November 26, 2026 7:00 AM<br><b>Subject:</b> Resilience<br><br>${LETTER_HTML}</div></div>`;
    expectBoth(html, 'Done, and it helped.\nSam', { html: true });
  });

  it('a body that is one bare <blockquote> with an attribution inside: the text above the attribution, marked uncertain', () => {
    const html = `<blockquote>Done at lunch.<div>On Thu, Nov 26, 2026 at 7:00 AM, ${esc(ADDR)} wrote:</div><div>Try it for ten minutes before lunch.</div></blockquote>`;
    for (const letter of [undefined, LETTER]) {
      expect(analyseReply({ text: '', html }, letter)).toMatchObject({ text: 'Done at lunch.', uncertain: true, reasons: ['kept_unattributed_quote'] });
    }
  });
});

describe('reply corpus: forwards kept apart (own words decide; the full text shows the forward)', () => {
  // The subscriber's own words (`text`) are all the rules, the LLM and the notes read. The message
  // stored and shown (`fullText`) keeps what they forwarded after them, from `forwardedAt`; our
  // letter and our footer are never in it.
  const note = 'FYI, this is the newsletter I told you about.';
  const story = 'Ten ways to run faster this winter.';
  const fwdHeader = 'From: Daily Running <news@running.example>\nDate: Thu, Dec 3, 2026 at 9:00 AM\nSubject: Winter running\nTo: sam@example.com';
  const gmailHtml = (above: string, body: string) =>
    `<div dir="ltr">${above}<br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">---------- Forwarded message ---------<br>From: <b class="gmail_sendername">Daily Running</b> &lt;news@running.example&gt;<br>Date: Thu, Dec 3, 2026 at 9:00 AM<br>Subject: Winter running<br></div><br>${body}</div></div>`;
  const appleHtml = (above: string, body: string) =>
    `<div>${above}<br><div>Begin forwarded message:</div><br><blockquote type="cite"><div><b>From: </b>Daily Running &lt;news@running.example&gt;</div><div><b>Subject: </b>Winter running</div><br>${body}</blockquote></div>`;
  const forwardOf = (x: { fullText: string; forwardedAt: number | null }) => (x.forwardedAt === null ? null : x.fullText.slice(x.forwardedAt));

  it.each([
    ['plain Gmail', `---------- Forwarded message ---------\n${fwdHeader}\n\n${story}`],
    ['plain Apple', `Begin forwarded message:\n\n${fwdHeader}\n\n${story}`],
  ])('%s forward with a note: the note is the text, the forward follows it in the full text', (_n, forward) => {
    for (const letter of [undefined, LETTER]) {
      const x = analyseReply({ text: `${note}\n\n${forward}\n`, html: null }, letter);
      expect(x).toMatchObject({ text: note, fullText: `${note}\n\n${forward}`, ownEnd: note.length, forwardedAt: note.length + 2, uncertain: false });
    }
  });

  it.each([
    ['HTML-only Gmail', gmailHtml(esc(note), `<p>${story}</p>`), '---------- Forwarded message ---------'],
    ['HTML-only Apple Mail', appleHtml(esc(note), `<div>${story}</div>`), 'Begin forwarded message:'],
  ])('%s forward with a note: the note is the text, the forward follows it in the full text', (_n, html, separator) => {
    for (const letter of [undefined, LETTER]) {
      const x = analyseReply({ text: '', html }, letter);
      expect(x).toMatchObject({ text: note, ownEnd: note.length, forwardedAt: note.length + 2, uncertain: false });
      expect(forwardOf(x)).toMatch(new RegExp(`^${separator}\\n[\\s\\S]*Daily Running[\\s\\S]*Winter running[\\s\\S]*${story}$`));
    }
  });

  it.each([
    ['plain', { text: `---------- Forwarded message ---------\n${fwdHeader}\n\n${story}\n`, html: null }],
    ['HTML-only Gmail', { text: '', html: gmailHtml('', `<p>${story}</p>`) }],
    ['HTML-only Apple Mail', { text: '', html: appleHtml('', `<div>${story}</div>`) }],
  ])('%s forward without a note: no own words (empty_extraction, a person reviews it), the forward is the full text', (_n, m) => {
    for (const letter of [undefined, LETTER]) {
      const x = analyseReply(m, letter);
      expect(x).toMatchObject({ text: '', ownEnd: 0, forwardedAt: 0, uncertain: true, reasons: ['empty_extraction'] });
      expect(x.fullText).toContain(story);
    }
  });

  it('a forwarded list footer saying "unsubscribe" never becomes an unsubscribe: only the note is read', () => {
    // Forged: read as a whole, this message is an explicit unsubscribe (0.9). The forward is not the subscriber's.
    const footer = 'Want to stop receiving these emails? Unsubscribe here.';
    const ctx = { now: new Date('2026-12-03T12:00:00Z'), timezone: 'UTC' };
    for (const m of [
      { text: `${note}\n\n---------- Forwarded message ---------\n${fwdHeader}\n\n${story}\n\n${footer}\n`, html: null },
      { text: '', html: gmailHtml(esc(note), `<p>${story}</p><p>${footer}</p>`) },
      { text: '', html: appleHtml(esc(note), `<div>${story}</div><div>${footer}</div>`) },
    ]) {
      const x = analyseReply(m, LETTER);
      expect(x.text).toBe(note);
      expect(forwardOf(x)).toContain(footer);
      expect(ruleIntent(x.fullText, ctx)).toMatchObject({ intent: 'unsubscribe' });
      expect(ruleIntent(x.text, ctx)).toMatchObject({ intent: 'note' });
    }
  });

  it('our letter forwarded back: not kept in the full text (with the letter known), our footer never (with or without)', () => {
    const body = `Did it with my sister tonight.\n\n---------- Forwarded message ---------\nFrom: Mentor Zero <mentor@mentor.example>\nDate: Thu, Nov 26, 2026 at 7:00 AM\nSubject: Resilience\n\n${SENT}\n`;
    expect(analyseReply({ text: body, html: null }, LETTER)).toMatchObject({ text: 'Did it with my sister tonight.', fullText: 'Did it with my sister tonight.', forwardedAt: null, letterFound: true });
    const html = gmailHtml('Did it with my sister tonight.', SENT_HTML);
    expect(analyseReply({ text: '', html }, LETTER)).toMatchObject({ text: 'Did it with my sister tonight.', fullText: 'Did it with my sister tonight.', forwardedAt: null, letterFound: true });
    for (const x of [analyseReply({ text: body, html: null }), analyseReply({ text: '', html })]) {
      expect(x.text).toBe('Did it with my sister tonight.');
      expect(x.fullText).not.toMatch(/Unsubscribe|receiving this because|\/u\/Zk3h/);
    }
  });

  it('quoted history is never in the full text; a signature is, after the own words', () => {
    expect(analyseReply({ text: `Done.\n\nOn Thu, Nov 26, 2026 at 7:00 AM ${ADDR} wrote:\n\n${gt(SENT)}\n`, html: null }, LETTER)).toMatchObject({ text: 'Done.', fullText: 'Done.', ownEnd: 5, forwardedAt: null });
    const x = analyseReply({ text: `Done.\n\nSent from my iPhone\n\nOn Thu, Nov 26, 2026 at 7:00 AM ${ADDR} wrote:\n\n${gt(SENT)}\n`, html: null }, LETTER);
    expect(x).toMatchObject({ text: 'Done.', fullText: 'Done.\n\nSent from my iPhone', ownEnd: 5, forwardedAt: null });
    const signed = analyseReply({ text: `Done.\n\nBest regards,\nSam Rivera\n\n-----Original Message-----\nFrom: ${ADDR}\nSent: Thursday, November 26, 2026 7:00 AM\n\n${SENT}\n`, html: null }, LETTER);
    expect(signed).toMatchObject({ text: 'Done.', fullText: 'Done.\n\nBest regards,\nSam Rivera' });
  });

  it('a signature above a forward: own words, signature, then the forward', () => {
    const x = analyseReply({ text: `${note}\n\n-- \nSam Rivera\n\n---------- Forwarded message ---------\n${fwdHeader}\n\n${story}\n`, html: null });
    expect(x).toMatchObject({ text: note, ownEnd: note.length });
    expect(x.fullText.slice(0, x.forwardedAt ?? 0)).toBe(`${note}\n\n--\nSam Rivera\n\n`);
    expect(forwardOf(x)).toMatch(/^---------- Forwarded message ---------\nFrom: Daily Running/);
  });
});

describe('reply corpus: forged and hostile', () => {
  it('our footer pasted unquoted with a foreign "Unsubscribe" never survives', () => {
    expectBoth(`Keep them coming.\n\nUnsubscribe from Resilience: https://mentor.example/u/forgedtoken123\n`, 'Keep them coming.');
  });

  it('a fake attribution inside the reply does not hide the words above it', () => {
    expectBoth(`I will pause nothing.\n\nOn Thu, Nov 26, 2026 at 7:00 AM Mallory <m@evil.example> wrote:\n> unsubscribe me\n`, 'I will pause nothing.');
  });

  it('a sentence starting "On …" with a date, then blank lines and no verb line, stays', () => {
    expectBoth('Done.\n\nOn Thu, Nov 26, 2026 at 7:00 I start again\n\nwith the next exercise', 'Done.\n\nOn Thu, Nov 26, 2026 at 7:00 I start again\n\nwith the next exercise');
  });

  it('a sentence that looks like an attribution but has no date or address stays', () => {
    expectBoth('On Monday my coach wrote:\nkeep going, you are close.', 'On Monday my coach wrote:\nkeep going, you are close.');
  });

  it('private-use marker characters in the mail cannot forge a cut', () => {
    expectBoth('Done \uE000 really\n\uE001\nstill mine\n\uE000\nand this\n\uE002 too', 'Done really\n\nstill mine\n\nand this\ntoo');
  });

  it('extractFromText without a letter still drops the quoted letter and footer', () => {
    expect(extractFromText(`Done.\n\n${gt(SENT)}`)).toBe('Done.');
  });
});

describe('reply corpus: attribution evidence', () => {
  it('"On Monday, Mentor wrote:" over a ">" quote is an attribution (the quote is the evidence)', () => {
    expectBoth('Thanks 🙏\n\nOn Monday, Mentor wrote:\n> Dear friend\n> Unsubscribe from Focus: https://x.test/u/abc\n', 'Thanks 🙏');
  });
});
