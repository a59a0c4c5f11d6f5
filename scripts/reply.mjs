#!/usr/bin/env node
/**
 * `npm run reply -- <address> "<text>"` — answer the newest letter the local mail catcher holds for
 * <address>, exactly as a mail client would, through the real inbound path (SMTP on 2525):
 * To = the letter's Reply-To (whatever address the letter carries; never built here), From = the
 * address the letter went to, In-Reply-To / References = its Message-ID, "Re: <subject>", the text
 * on top and the letter quoted below ("On … wrote:" and "> " lines).
 *
 * Options: --mail-catcher <url> (default http://127.0.0.1:$MAILDEV_WEB_PORT or :1080),
 *          --smtp <host:port> (default 127.0.0.1:$INBOUND_SMTP_PORT or :2525).
 * Local tooling for `npm start`'s stack: the inbound service applies every rule it applies to mail
 * from the internet.
 */
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);

const USAGE = 'usage: npm run reply -- <address> "<your reply>" [--mail-catcher http://127.0.0.1:1080] [--smtp 127.0.0.1:2525]';

function die(message) {
  console.error(message);
  process.exit(1);
}

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: { 'mail-catcher': { type: 'string' }, smtp: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
} catch (err) {
  die(`${err.message}\n${USAGE}`);
}
const { values, positionals } = parsed;
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const [address, ...words] = positionals;
const text = words.join(' ').trim();
if (!address || !/^[^\s@]+@[^\s@]+$/.test(address) || !text) die(USAGE);

const catcher = (values['mail-catcher'] ?? `http://127.0.0.1:${process.env.MAILDEV_WEB_PORT ?? 1080}`).replace(/\/+$/, '');
const [smtpHost, smtpPort] = (values.smtp ?? `127.0.0.1:${process.env.INBOUND_SMTP_PORT ?? 2525}`).split(/:(?=\d+$)/);

async function getJson(path) {
  let res;
  try {
    res = await fetch(`${catcher}${path}`);
  } catch (err) {
    die(`the mail catcher does not answer at ${catcher} (${err.cause?.code ?? err.message}): is \`npm start\` running?`);
  }
  if (!res.ok) die(`the mail catcher answered ${res.status} for ${path}`);
  return path.endsWith('/source') ? res.text() : res.json();
}

/** The newest letter (not a sign-in mail) sent to the address. */
async function newestLetter() {
  const all = await getJson('/email');
  const wanted = address.toLowerCase();
  const letters = all
    .filter((m) => (m.to ?? []).some((t) => t.address?.toLowerCase() === wanted) && m.headers?.['x-mz-letter'])
    .sort((a, b) => new Date(b.time).getTime() - new Date(a.time).getTime());
  if (!letters.length) die(`no letter for ${address} in the mail catcher yet (sign-in mails do not count): press "Send one now" on the settings page, then wait for it at ${catcher}`);
  return letters[0];
}

/** "> " before every line of the letter, as mail clients quote. */
function quote(body) {
  return body.replace(/\r\n/g, '\n').replace(/\n+$/, '').split('\n').map((l) => (l ? `> ${l}` : '>')).join('\n');
}

const { simpleParser } = require('mailparser');
const nodemailer = require('nodemailer');

const summary = await newestLetter();
const letter = await simpleParser(await getJson(`/email/${encodeURIComponent(summary.id)}/source`));
const replyTo = letter.replyTo?.value?.[0]?.address;
if (!replyTo) die(`the newest letter for ${address} ("${letter.subject}") has no Reply-To: it cannot be answered`);
if (!letter.messageId) die(`the newest letter for ${address} has no Message-ID: it cannot be answered`);

const sender = letter.from?.text ?? 'Mentor Zero';
const when = (letter.date ?? new Date()).toUTCString();
const references = [...[letter.references ?? []].flat(), letter.messageId];
const body = `${text}\n\nOn ${when}, ${sender} wrote:\n${quote(letter.text ?? '')}\n`;

const transport = nodemailer.createTransport({ host: smtpHost, port: Number(smtpPort), secure: false, ignoreTLS: true, name: 'localhost' });
try {
  const info = await transport.sendMail({
    envelope: { from: address, to: [replyTo] },
    from: address,
    to: replyTo,
    subject: /^re:/i.test(letter.subject ?? '') ? letter.subject : `Re: ${letter.subject ?? ''}`,
    inReplyTo: letter.messageId,
    references,
    text: body,
  });
  console.log(`replied to "${letter.subject}" (${letter.messageId}) via ${replyTo}: ${info.response}`);
} catch (err) {
  die(`the inbound service refused the reply at ${smtpHost}:${smtpPort}: ${err.response ?? err.message}`);
}
