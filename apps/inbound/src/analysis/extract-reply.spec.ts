import { fillTemplate, TRANSLATED_FOOTERS } from '@mz/contracts';
import { analyseReply, extractFromText, extractReplyText, MAX_INPUT_CHARS, MAX_MESSAGE_CHARS, MAX_REPLY_CHARS } from './extract-reply';
import { htmlToReplyText } from './html-text';
import type { ParsedMessage } from './parsed-message';

const FOOTER = [
  '—',
  'You are receiving this because you subscribed to Resilience on Mentor Zero.',
  'Reply to this email to tell your mentor how it went: "done", a note, or "pause for a week".',
  'Your settings: http://localhost:3000/login/Qm7nB2vX9cZ4lK8jH3gF6dS1aP0oI5uY',
  'Unsubscribe from Resilience: http://localhost:3000/u/Zk3h9QpL2mN8xR4tV7wY1bC5dF0gH6jK',
];
const LETTER = ['Dear Sam,', '', 'Seneca wrote to Lucilius that we suffer more often in imagination.', '', ...FOOTER];
const quoted = (lines = LETTER) => lines.map((l) => (l ? `> ${l}` : '>')).join('\n');

const LETTER_HTML =
  '<p>Dear Sam,</p><p>Seneca wrote to Lucilius that we suffer more often in imagination.</p><hr><p>You are receiving this because you subscribed to Resilience on Mentor Zero.<br>' +
  '<a href="http://localhost:3000/login/abc123def456">Your settings</a> · <a href="http://localhost:3000/u/tok_abc123def456">Unsubscribe from Resilience</a></p>';

function msg(text: string, html: string | null = null): ParsedMessage {
  return { messageId: null, inReplyTo: null, references: [], from: null, to: [], subject: '', date: null, headers: {}, text, html, attachments: [], parts: [] };
}

function expectClean(out: string): void {
  expect(out).not.toMatch(/unsubscribe from/i);
  expect(out).not.toMatch(/you are receiving this/i);
  expect(out).not.toContain('/u/');
  expect(out).not.toContain('Seneca wrote');
}

describe('extractFromText: quoted history', () => {
  it('drops ">" lines and the Gmail attribution', () => {
    const out = extractFromText(`Done!\n\nOn Thu, Nov 26, 2026 at 7:00\u202fAM Mentor Zero <mentor@mentor.localhost> wrote:\n\n${quoted()}\n`);
    expect(out).toBe('Done!');
  });

  it.each([
    ['Gmail, wrapped', 'On Thu, Nov 26, 2026 at 7:00 AM Mentor Zero <\nmentor@mentor.localhost> wrote:'],
    ['Gmail, wrapped twice', 'On Thu, Nov 26, 2026 at 7:00 AM Mentor Zero from the\nMentor Zero team <\nmentor@mentor.localhost> wrote:'],
    ['Apple Mail', 'On 26 Nov 2026, at 07:00, Mentor Zero <mentor@mentor.localhost> wrote:'],
    ['Thunderbird', 'On 26/11/2026 07:00, Mentor Zero wrote:'],
    ['German Gmail', 'Am Do., 26. Nov. 2026 um 07:00 Uhr schrieb Mentor Zero <\nmentor@mentor.localhost>:'],
    ['German Thunderbird', 'Am 26.11.26 um 07:00 schrieb Mentor Zero:'],
    ['French', 'Le jeu. 26 nov. 2026 à 07:00, Mentor Zero <mentor@mentor.localhost> a\nécrit :'],
    ['Spanish', 'El jue, 26 nov 2026 a las 7:00, Mentor Zero (<mentor@mentor.localhost>)\nescribió:'],
    ['Italian', 'Il giorno gio 26 nov 2026 alle ore 07:00 Mentor Zero <mentor@mentor.localhost> ha scritto:'],
    ['Dutch', 'Op do 26 nov 2026 om 07:00 schreef Mentor Zero <mentor@mentor.localhost>:'],
    ['Portuguese', 'Em qui., 26 de nov. de 2026 às 07:00, Mentor Zero <mentor@mentor.localhost> escreveu:'],
    ['Swedish', 'Den tors 26 nov. 2026 kl 07:00 skrev Mentor Zero <mentor@mentor.localhost>:'],
    ['Japanese Gmail', '2026年11月26日(木) 7:00 Mentor Zero <mentor@mentor.localhost>:'],
    ['Japanese Thunderbird', '2026/11/26 7:00 に Mentor Zero さんは書きました:'],
  ])('removes the %s attribution', (_client, attribution) => {
    const out = extractFromText(`My answer.\n\n${attribution}\n${quoted()}\n`);
    expect(out).toBe('My answer.');
  });

  it('cuts at an attribution followed by an unquoted original', () => {
    const out = extractFromText(`Short note.\n\nOn 26 Nov 2026, at 07:00, Mentor Zero <mentor@mentor.localhost> wrote:\n\n${LETTER.join('\n')}`);
    expect(out).toBe('Short note.');
  });

  it('keeps answers interleaved between quoted paragraphs', () => {
    const out = extractFromText(`On 26/11/2026 07:00, Mentor Zero wrote:\n> Dear Sam,\n\nHello!\n\n> Seneca wrote to Lucilius.\n\nDone, five worries.\n\n${quoted(FOOTER)}\n`);
    expect(out).toBe('Hello!\n\nDone, five worries.');
  });

  it('does not mistake the reply for an attribution when it starts with "On" above one', () => {
    const out = extractFromText(`On holiday until 2026-12-03, please wait.\nOn Thursday, 26 November 2026 at 07:00:00 CET, Mentor Zero <mentor@mentor.localhost> wrote:\n${quoted()}`);
    expect(out).toBe('On holiday until 2026-12-03, please wait.');
  });

  it.each([
    ['English', 'From: Mentor Zero <mentor@mentor.localhost>\nSent: Thursday, November 26, 2026 7:00 AM\nTo: Sam Rivera <sam@example.com>\nSubject: Seneca [mz:resilience]'],
    ['German', 'Von: Mentor Zero <mentor@mentor.localhost>\nGesendet: Donnerstag, 26. November 2026 07:00\nAn: Jonas <j@example.de>\nBetreff: Seneca'],
    ['French', 'De : Mentor Zero <mentor@mentor.localhost>\nEnvoyé : jeudi 26 novembre 2026 07:00\nÀ : Camille <c@example.fr>\nObjet : Seneca'],
    ['Spanish', 'De: Mentor Zero <mentor@mentor.localhost>\nEnviado: jueves, 26 de noviembre de 2026 7:00\nPara: Lucía <l@example.es>\nAsunto: Seneca'],
    ['bold (from HTML)', '*From:* Mentor Zero <mentor@mentor.localhost>\n*Sent:* Thursday\n*To:* Sam\n*Subject:* Seneca'],
  ])('cuts at an Outlook header block (%s) and the unquoted original below it', (_lang, block) => {
    expect(extractFromText(`My note.\n\n${block}\n\n${LETTER.join('\n')}`)).toBe('My note.');
    expect(extractFromText(`My note.\n\n________________________________\n${block}\n\n${LETTER.join('\n')}`)).toBe('My note.');
  });

  it('cuts at -----Original Message----- and forwarded-message separators', () => {
    expect(extractFromText(`Done.\n\n-----Original Message-----\nFrom: Mentor Zero [mailto:mentor@mentor.localhost]\n\n${LETTER.join('\n')}`)).toBe('Done.');
    expect(extractFromText(`Done.\n\n-----Ursprüngliche Nachricht-----\n${LETTER.join('\n')}`)).toBe('Done.');
    expect(extractFromText(`Look!\n\n---------- Forwarded message ---------\nFrom: Mentor Zero <mentor@mentor.localhost>\n\n${LETTER.join('\n')}`)).toBe('Look!');
    expect(extractFromText(`Look!\n\nBegin forwarded message:\n\n${LETTER.join('\n')}`)).toBe('Look!');
  });

  it('does not cut at a single "From:" line the subscriber wrote', () => {
    expect(extractFromText('From: my heart\nI did it today.')).toBe('From: my heart\nI did it today.');
  });
});

describe('extractFromText: signatures and our footer', () => {
  it.each([
    ['-- ', 'Done.\n\n-- \nSam Rivera\nhttps://samrivera.example'],
    ['--', 'Done.\n--\nSam'],
    ['Sent from my iPhone', 'Done.\n\nSent from my iPhone'],
    ['Get Outlook for iOS', 'Done.\n\nGet Outlook for iOS<https://aka.ms/o0ukef>'],
    ['Get Outlook for Android', 'Done.\n\nGet Outlook for Android'],
    ['Von meinem iPhone gesendet', 'Done.\n\nVon meinem iPhone gesendet'],
    ['Envoyé de mon iPhone', 'Done.\n\nEnvoyé de mon iPhone'],
    ['Enviado desde mi iPhone', 'Done.\n\nEnviado desde mi iPhone'],
    ['iPhoneから送信', 'Done.\n\niPhoneから送信'],
  ])('strips the %s signature', (_sig, text) => {
    expect(extractFromText(text)).toBe('Done.');
  });

  it('removes our footer when it appears unquoted, and never reads its "Unsubscribe"', () => {
    const out = extractFromText(`Thanks, this helped.\n\n${FOOTER.join('\n')}\n`);
    expect(out).toBe('Thanks, this helped.');
    expectClean(out);
  });

  it('removes stray footer lines and bare links to our pages', () => {
    const out = extractFromText('Thanks!\nUnsubscribe from Resilience\nhttp://localhost:3000/u/Zk3h9QpL2mN8xR4tV7wY1bC5dF0gH6jK\nYour settings: <http://localhost:3000/login/Qm7nB2vX9cZ4>');
    expect(out).toBe('Thanks!');
  });

  it("keeps the subscriber's own words about unsubscribing", () => {
    expect(extractFromText(`Please unsubscribe me.\n\n${quoted()}`)).toBe('Please unsubscribe me.');
    expect(extractFromText('I almost unsubscribed, but this helped.')).toBe('I almost unsubscribed, but this helped.');
  });
});

describe('extractFromText: normalisation', () => {
  it('collapses whitespace and blank lines, strips zero-width characters and BOMs', () => {
    expect(extractFromText('\r\n\r\n  Done \t  today\u00a0!\u200b\r\n\r\n\r\n\r\nSecond   paragraph.\ufeff  \r\n\r\n')).toBe('Done today !\n\nSecond paragraph.');
  });

  it(`caps the text at ${MAX_REPLY_CHARS} characters on a word boundary`, () => {
    const out = extractFromText('word '.repeat(3000));
    expect(out.length).toBeLessThanOrEqual(MAX_REPLY_CHARS);
    expect(out.endsWith('word…')).toBe(true);
  });

  it('returns an empty string when nothing was written', () => {
    expect(extractFromText(`\n\nOn Thu, Nov 26, 2026 at 7:00 AM Mentor Zero <mentor@mentor.localhost> wrote:\n${quoted()}`)).toBe('');
    expect(extractFromText('')).toBe('');
  });
});

describe('HTML replies', () => {
  it('Gmail: drops div.gmail_quote with its attribution and blockquote', () => {
    const html = `<div dir="ltr">Done &amp; dusted &lt;3</div><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Thu, Nov 26, 2026 at 7:00 AM Mentor Zero &lt;mentor@mentor.localhost&gt; wrote:<br></div><blockquote class="gmail_quote">${LETTER_HTML}</blockquote></div>`;
    expect(extractReplyText(msg('', html))).toBe('Done & dusted <3');
  });

  it('Outlook on the web: cuts at #appendonsend / #divRplyFwdMsg; the original follows unquoted', () => {
    const html = `<html><body><div class="elementToProof">Thank you!</div><div id="appendonsend"></div><hr style="display:inline-block;width:98%" tabindex="-1"><div id="divRplyFwdMsg" dir="ltr"><b>From:</b> Mentor Zero<br><b>Sent:</b> Thursday</div><div>${LETTER_HTML}</div></body></html>`;
    expect(extractReplyText(msg('', html))).toBe('Thank you!');
    // Same with Outlook's x_ prefixes on a forwarded copy and without #appendonsend.
    expect(extractReplyText(msg('', `<div>Thank you!</div><div id="x_divRplyFwdMsg"><b>From:</b> Mentor Zero</div>${LETTER_HTML}`))).toBe('Thank you!');
  });

  it('Outlook desktop: cuts at the bordered header div (Word HTML, styles ignored)', () => {
    const html = `<html><head><style><!-- p.MsoNormal {margin:0cm;} --></style></head><body><div class="WordSection1"><p class="MsoNormal">Line one<o:p></o:p></p><p class="MsoNormal"><o:p>&nbsp;</o:p></p><p class="MsoNormal">Sam<o:p></o:p></p><div><div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm"><p class="MsoNormal"><b>From:</b> Mentor Zero</p></div></div>${LETTER_HTML}</div></body></html>`;
    expect(extractReplyText(msg('', html))).toBe('Line one\n\nSam');
  });

  it('an <hr> followed by a "From:" line starts the quote; an <hr> alone does not', () => {
    expect(extractReplyText(msg('', `<div>Note above</div><hr><div><b>From:</b> Mentor Zero &lt;mentor@mentor.localhost&gt;</div><div>${LETTER_HTML}</div>`))).toBe('Note above');
    expect(extractReplyText(msg('', '<p>Part one</p><hr><p>Part two</p>'))).toBe('Part one\n\nPart two');
  });

  it('Apple Mail and Thunderbird: drops blockquote[type=cite], .moz-cite-prefix and .moz-signature', () => {
    const apple = `<html><body dir="auto">Done ✅<br id="lineBreakAtBeginningOfSignature"><div dir="ltr">Sent from my iPhone</div><div dir="ltr"><br><blockquote type="cite">On 26 Nov 2026, at 07:00, Mentor Zero &lt;mentor@mentor.localhost&gt; wrote:<br><br></blockquote></div><blockquote type="cite"><div dir="ltr">${LETTER_HTML}</div></blockquote></body></html>`;
    expect(extractReplyText(msg('', apple))).toBe('Done ✅');
    const tb = `<p>Mir ist etwas aufgefallen.</p><div class="moz-cite-prefix">Am 26.11.26 um 07:00 schrieb Mentor Zero:<br></div><blockquote type="cite">${LETTER_HTML}</blockquote><pre class="moz-signature" cols="72">-- \nJonas</pre>`;
    expect(extractReplyText(msg('', tb))).toBe('Mir ist etwas aufgefallen.');
  });

  it('survives broken markup, scripts and styles, and decodes entities', () => {
    const html = '<div>Caf&eacute; &#8212; done<script>alert("unsubscribe")</script><style>.x{}</style><p>second <b>line<div>third';
    expect(extractReplyText(msg('', html))).toBe('Café — done\nsecond line\nthird');
  });

  it('keeps <pre> line breaks and spacing, turns table cells into spaced text', () => {
    const lines = htmlToReplyText('<pre>a  b\n  c</pre><table><tr><td>x</td><td>y</td></tr></table>').trim().split('\n');
    expect(lines.map((l) => l.trim())).toEqual(['a  b', 'c', 'x y']);
  });

  it('prefers the text/plain part when there is one, uses HTML when the text is empty', () => {
    expect(extractReplyText(msg('From text part', '<div>From HTML part</div>'))).toBe('From text part');
    expect(extractReplyText(msg('  \n', '<div>From HTML part</div>'))).toBe('From HTML part');
  });

  it('never lets the HTML footer survive, even outside a recognised quote', () => {
    // An unrecognised quote keeps the letter's words, but the footer is always removed.
    const out = extractReplyText(msg('', `<div>Good letter.</div><div>${LETTER_HTML}</div>`));
    expect(out.startsWith('Good letter.')).toBe(true);
    expect(out).not.toMatch(/unsubscribe|you are receiving this|your settings/i);
  });
});

describe('analyseReply: pathological mail stays cheap (R9: event loop never stalls)', () => {
  // Every line rule is linear and bounded to MAX_RULE_LINE; input beyond MAX_INPUT_CHARS or
  // 3 000 lines is not read (marked `input_truncated`). Before these bounds, "On a@a@…a@ wrote:"
  // lines took 125 s and a line of "http://" repeated 2.5 s. The bound here leaves headroom for a
  // loaded CI machine; idle, each case takes well under 30 ms.
  const letter = { text: `Dear Sam,\n\n${'Seneca wrote to Lucilius that we suffer more often in imagination. '.repeat(50)}` };
  const cases: [string, { text: string; html: string | null }][] = [
    ['a 2 MB line', { text: 'a'.repeat(2_000_000), html: null }],
    ['a 2 MB flowed paragraph', { text: 'A long paragraph written in format=flowed keeps going '.repeat(40_000), html: null }],
    ['a million ">"', { text: '>'.repeat(1_000_000), html: null }],
    ['200k quoted lines', { text: '> x\n'.repeat(200_000), html: null }],
    ['attributions full of "@"', { text: `On ${'a@'.repeat(190)} wrote:\n`.repeat(3000), html: null }],
    ['addresses full of "@"', { text: `<${'a@'.repeat(150)}b> schrieb x:\n`.repeat(5000), html: null }],
    ['"From:" lines full of "@"', { text: `From: ${'a@'.repeat(495)}\n`.repeat(5000), html: null }],
    ['rules with spaces before a letter', { text: `${'-'.repeat(100)}${' '.repeat(99)}x\n`.repeat(10_000), html: null }],
    ['"http://" repeated on one line', { text: 'http://'.repeat(140_000), html: null }],
    ['unfinished wrapped attributions', { text: 'On Thu, 1 Jan 2026 at 7:00 Name <\n'.repeat(20_000), html: null }],
    ['sign-off blocks', { text: 'Regards,\nx\nx\nx\n'.repeat(20_000), html: null }],
    ['dash runs before a letter', { text: `${'-- '.repeat(330)}x\n`.repeat(3000), html: null }],
    ['a million marker characters', { text: '\uE002'.repeat(1_000_000), html: null }],
    ['"On" words before a colon (inline attributions)', { text: `${'x On 2026 a@b.example '.repeat(45)}wrote:\n`.repeat(3000), html: null }],
    ['scattered attribution starts over blank lines', { text: 'On Thu, 1 Jan 2026 at 7:00 Name\n\n<\n'.repeat(20_000), html: null }],
    ['link lines between quoted lines', { text: `On 1 Jan 2026, a@b.example wrote:\n${`> x\n (${'http://x.example/'.repeat(20)}) >\n`.repeat(20_000)}`, html: null }],
    ['"-Name" lines', { text: 'text\n\n-Name Name\n'.repeat(30_000), html: null }],
    // The message kept apart (fullText): a signature read down to where history starts, a forward to the end.
    ['a signature over unfinished wrapped attributions', { text: `Done\n-- \n${'On Thu, 1 Jan 2026 at 7:00 Name <\n'.repeat(20_000)}`, html: null }],
    ['a signature over header-like lines', { text: `Done\nSent from my iPhone\n${'Subject: a@b.example 2026\nx\n'.repeat(20_000)}`, html: null }],
    ['a forward of footer lines and letter paragraphs', { text: `FYI\n---------- Forwarded message ---------\n${'You are receiving this because you subscribed to x\n\nSeneca wrote to Lucilius that we suffer more often in imagination.\n\n'.repeat(5000)}`, html: null }],
  ];

  // HTML goes through sanitize-html first, whose cost per tag (~20–40 µs) was there before this
  // extractor: bounded by the 128 KB read limit, not by these rules. Checked for a flat bound.
  const htmlCases: [string, { text: string; html: string | null }][] = [
    ['5 000 nested <blockquote>', { text: '', html: `${'<blockquote>'.repeat(5000)}x${'</blockquote>'.repeat(5000)}` }],
    ['2 MB of HTML text', { text: '', html: `<div>${'word '.repeat(400_000)}</div>` }],
    ['Gmail forward containers, many and nested', { text: '', html: `${'<div class="gmail_quote">---------- Forwarded message ---------<br>x'.repeat(150)}${'</div>'.repeat(150)}${'<div class="gmail_quote">---------- Forwarded message ---------<br>From: a@b.example<br>x</div>'.repeat(3000)}` }],
  ];

  it.each([...cases.map(([n, m]) => [n, m, 400] as const), ...htmlCases.map(([n, m]) => [n, m, 2000] as const)])('%s', (_name, m, bound) => {
    analyseReply(m, letter); // compile the regexes first: the boot path warms them the same way
    for (const l of [null, letter]) {
      const t0 = performance.now();
      const r = analyseReply(m, l);
      // Generous for a loaded CI machine (idle: text cases < 30 ms); catastrophic backtracking
      // took seconds to minutes on these inputs.
      expect(performance.now() - t0).toBeLessThan(bound);
      expect(r.text.length).toBeLessThanOrEqual(MAX_REPLY_CHARS);
      expect(r.fullText.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
    }
  });

  it('a body beyond the read limit is marked uncertain, and its top is still read', () => {
    const r = analyseReply({ text: `Done, thanks!\n\n${'> old history\n'.repeat(100_000)}`, html: null });
    expect(r).toMatchObject({ text: 'Done, thanks!', uncertain: true, reasons: ['input_truncated'] });
    expect(MAX_INPUT_CHARS).toBeGreaterThan(64 * 1024);
  });
});

describe('extractFromText: our translated footers (de, fr, es)', () => {
  const links = { login_link: 'http://localhost:3000/login/Qm7nB2vX9cZ4lK8jH3gF6dS1aP0oI5uY', unsubscribe_link: 'http://localhost:3000/u/Zk3h9QpL2mN8xR4tV7wY1bC5dF0gH6jK', topic_name: 'Resilienz' };
  it.each([['de', 'Erledigt!'], ['fr', "C'est fait !"], ['es', '¡Hecho!']] as const)('removes the %s footer, unquoted or quoted, so its unsubscribe words are never read', (lang, answer) => {
    const footer = fillTemplate(TRANSLATED_FOOTERS[lang].text, links);
    expect(extractFromText(`${answer}\n\n${footer}\n`)).toBe(answer);
    expect(extractFromText(`${answer}\n\n${footer.split('\n').map((l) => `> ${l}`).join('\n')}\n`)).toBe(answer);
  });
});
