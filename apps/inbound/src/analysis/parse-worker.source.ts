import { MAX_TO_ADDRESSES } from './parsed-message';

/**
 * Source of the parse worker, run with `new Worker(PARSE_WORKER_SOURCE, { eval: true })`.
 *
 * Plain CommonJS on purpose: an eval'd worker is not transpiled, so the same string works under
 * Jest (TypeScript via SWC) and from compiled dist. Modules are loaded from absolute paths the
 * main thread resolves (workerData.mailparserPath), and mailsplit/libmime through mailparser's
 * own require so the structure scan uses exactly the splitter mailparser uses.
 *
 * Protocol:  main → { id, raw: Uint8Array, limits: { maxParts, maxDepth } }
 *            worker → { type: 'ready' } | { id, ok: true, message } | { id, ok: false, code, error }
 */
export const PARSE_WORKER_SOURCE = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { createRequire } = require('node:module');
const { simpleParser } = require(workerData.mailparserPath);
const mpRequire = createRequire(workerData.mailparserPath);
const { Splitter } = mpRequire('@zone-eu/mailsplit');
const libmime = mpRequire('libmime');

// RFC 3676 format=flowed, done right: libmime joins any line ending in a space to the next, so
// a quoted line ("> … ") swallowed the answer below it and the answer was dropped as quoted.
// Here a line is soft-broken only into a next line of the SAME quote depth (§4.5), space-stuffing
// is undone per line (§4.4), and the "-- " signature separator never flows (§4.3). The decoder
// mailparser's splitter uses is the one patched (its own libmime copy).
function decodeFlowedRfc3676(str, delSp) {
  // A paragraph is collected as pieces and joined once: testing the end of a growing string
  // (or slicing it) would flatten it on every line, quadratic on a 2 MB paragraph.
  const out = [];
  let pieces = null;
  let depth0 = 0;
  let soft = false;
  const flush = () => {
    if (pieces !== null) out.push((depth0 ? '>'.repeat(depth0) + ' ' : '') + pieces.join(''));
  };
  for (const rawLine of String(str || '').split(/\r?\n/)) {
    let depth = 0;
    while (depth < rawLine.length && rawLine.charCodeAt(depth) === 62) depth++;
    let text = rawLine.slice(depth);
    if (text.startsWith(' ')) text = text.slice(1);
    if (pieces !== null && soft && depth0 === depth) {
      if (delSp) pieces[pieces.length - 1] = pieces[pieces.length - 1].slice(0, -1);
      pieces.push(text);
    } else {
      flush();
      pieces = [text];
      depth0 = depth;
    }
    // Soft break: a trailing space, except on the signature separator "-- " (RFC 3676 §4.3).
    soft = text.endsWith(' ') && !(pieces.length === 1 && text === '-- ');
  }
  flush();
  return out.join('\n');
}
{
  const splitterLibmime = createRequire(mpRequire.resolve('@zone-eu/mailsplit'))('libmime');
  for (const lm of new Set([libmime, splitterLibmime])) {
    if (lm && lm.Libmime && lm.Libmime.prototype) {
      lm.Libmime.prototype.decodeFlowed = function (str, delSp) {
        return decodeFlowedRfc3676(str, typeof delSp === 'string' ? /^y/i.test(delSp) : !!delSp);
      };
    }
  }
}

const REPORT_TYPES = new Set([
  'message/delivery-status', 'message/global-delivery-status', 'message/feedback-report',
  'text/rfc822-headers', 'message/global-headers',
]);
const MAX_PART_TEXT = 64 * 1024;
const MAX_HEADER_VALUE = 16 * 1024;
const MAX_HEADER_KEYS = 300;
const MAX_TO = ${MAX_TO_ADDRESSES};
const MAX_REFERENCES = 100;

function fail(code, message) {
  const err = new Error(message);
  err.mzCode = code;
  return err;
}

function decodeWords(value) {
  try {
    return libmime.decodeWords(value);
  } catch (e) {
    return value;
  }
}

function headerValue(line) {
  const colon = line.indexOf(':');
  const raw = colon >= 0 ? line.slice(colon + 1) : '';
  return decodeWords(raw.replace(/\r?\n[ \t]+/g, ' ').trim()).slice(0, MAX_HEADER_VALUE);
}

function headerBlockFromLines(lines) {
  return lines.map((l) => l.key + ': ' + headerValue(l.line)).join('\n');
}

function decodeBody(buf, encoding) {
  const enc = String(encoding || '').toLowerCase();
  if (enc === 'base64') return Buffer.from(buf.toString('latin1').replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
  if (enc === 'quoted-printable') {
    const s = buf.toString('latin1').replace(/=\r?\n/g, '');
    const bytes = [];
    for (let i = 0; i < s.length; i++) {
      if (s[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3))) {
        bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
        i += 2;
      } else bytes.push(s.charCodeAt(i) & 0xff);
    }
    return Buffer.from(bytes);
  }
  return buf;
}

// Header block of a message/rfc822 body kept opaque by the splitter (not inline): the lines up
// to the first empty line, unfolded and decoded like top-level headers.
function headersOfRawMessage(text) {
  const end = text.search(/\r?\n\r?\n/);
  const head = end >= 0 ? text.slice(0, end) : text;
  const lines = [];
  for (const physical of head.split(/\r?\n/)) {
    if (/^[ \t]/.test(physical) && lines.length) lines[lines.length - 1].line += '\n' + physical;
    else if (physical.indexOf(':') > 0) lines.push({ key: physical.slice(0, physical.indexOf(':')).trim().toLowerCase(), line: physical });
  }
  return headerBlockFromLines(lines);
}

// Pass 1: walk the MIME tree with mailsplit only, counting parts and depth before the costly
// parse, and keep the raw content of the report sub-parts the classifier needs.
function scanStructure(buf, limits) {
  return new Promise((resolve, reject) => {
    const splitter = new Splitter({ maxChildNodes: limits.maxParts + 10 });
    const parts = [];
    const tracked = new Map();
    let count = 0;
    let settled = false;
    const finish = (err, value) => {
      if (settled) return;
      settled = true;
      if (err) {
        splitter.destroy();
        reject(err);
      } else resolve(value);
    };
    splitter.on('data', (chunk) => {
      if (settled) return;
      if (chunk.type === 'node') {
        count++;
        if (count > limits.maxParts) return finish(fail('too_many_parts', 'more than ' + limits.maxParts + ' MIME parts'));
        let depth = 0;
        for (let p = chunk.parentNode; p; p = p.parentNode) depth++;
        if (depth > limits.maxDepth) return finish(fail('too_deep', 'MIME nesting deeper than ' + limits.maxDepth));
        const parent = chunk.parentNode;
        if (parent && parent.contentType === 'message/rfc822' && tracked.has(parent)) {
          const entry = tracked.get(parent);
          entry.text = headerBlockFromLines(chunk.headers.getList());
          tracked.delete(parent);
        }
        if (chunk.multipart) return;
        const contentType = String(chunk.contentType || 'text/plain').toLowerCase();
        const entry = { contentType };
        parts.push(entry);
        if (REPORT_TYPES.has(contentType) || contentType === 'message/rfc822') {
          tracked.set(chunk, entry);
          entry.chunks = [];
          entry.size = 0;
          entry.encoding = chunk.encoding;
        }
      } else if (chunk.type === 'body') {
        const entry = tracked.get(chunk.node);
        if (entry && entry.size < MAX_PART_TEXT) {
          entry.chunks.push(chunk.value);
          entry.size += chunk.value.length;
        }
      }
    });
    splitter.on('error', (err) => finish(err && err.code === 'EMAXLEN' ? fail('too_large', err.message) : fail('malformed', String(err && err.message))));
    splitter.on('end', () => {
      for (const entry of parts) {
        if (entry.chunks) {
          if (entry.text === undefined) {
            const body = decodeBody(Buffer.concat(entry.chunks), entry.encoding).toString('utf8').slice(0, MAX_PART_TEXT);
            entry.text = entry.contentType === 'message/rfc822' ? headersOfRawMessage(body) : body;
          }
          delete entry.chunks;
          delete entry.size;
          delete entry.encoding;
        }
      }
      finish(null, parts);
    });
    splitter.end(buf);
  });
}

function idsIn(value) {
  return String(value || '').match(/<[^<>\s]+>/g) || [];
}

function addresses(field) {
  const out = [];
  const visit = (list) => {
    for (const a of list || []) {
      if (out.length >= MAX_TO) return;
      if (a.group) visit(a.group);
      else if (a.address) out.push(String(a.address).toLowerCase());
    }
  };
  for (const obj of [].concat(field || [])) visit(obj.value);
  return out;
}

function toParsed(mail, parts) {
  const headers = {};
  let keys = 0;
  for (const { key, line } of mail.headerLines || []) {
    const k = String(key).toLowerCase();
    const v = headerValue(line);
    if (k in headers) {
      if (headers[k].length < MAX_HEADER_VALUE) headers[k] = (headers[k] + ', ' + v).slice(0, MAX_HEADER_VALUE);
    } else if (keys < MAX_HEADER_KEYS) {
      headers[k] = v;
      keys++;
    }
  }
  const first = mail.from && mail.from.value && mail.from.value.find((a) => a.address);
  const date = mail.date instanceof Date && !isNaN(mail.date.getTime()) ? mail.date.toISOString() : null;
  const messageId = idsIn(headers['message-id'])[0] || (mail.messageId ? String(mail.messageId) : null);
  return {
    messageId,
    inReplyTo: idsIn(headers['in-reply-to'])[0] || null,
    references: idsIn(headers['references']).slice(-MAX_REFERENCES),
    from: first ? { address: String(first.address).toLowerCase(), name: String(first.name || '') } : null,
    to: addresses(mail.to),
    subject: typeof mail.subject === 'string' ? mail.subject : '',
    date,
    headers,
    text: typeof mail.text === 'string' ? mail.text : '',
    html: typeof mail.html === 'string' && mail.html.length ? mail.html : null,
    attachments: (mail.attachments || []).map((a) => ({
      filename: a.filename ? String(a.filename) : null,
      contentType: String(a.contentType || 'application/octet-stream'),
      size: typeof a.size === 'number' ? a.size : a.content ? a.content.length : 0,
    })),
    parts,
  };
}

async function parse(raw, limits) {
  const buf = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const parts = await scanStructure(buf, limits);
  let mail;
  try {
    mail = await simpleParser(buf, {
      keepDeliveryStatus: true,
      skipHtmlToText: true,
      skipTextToHtml: true,
      skipTextLinks: true,
      skipImageLinks: true,
      keepCidLinks: true,
      maxChildNodes: limits.maxParts + 10,
    });
  } catch (err) {
    throw err && err.code === 'EMAXLEN' ? fail('too_large', err.message) : fail('malformed', String((err && err.message) || err));
  }
  return toParsed(mail, parts);
}

parentPort.on('message', (task) => {
  parse(task.raw, task.limits).then(
    (message) => parentPort.postMessage({ id: task.id, ok: true, message }),
    (err) => parentPort.postMessage({
      id: task.id,
      ok: false,
      code: (err && err.mzCode) || 'malformed',
      error: String((err && err.message) || err).slice(0, 500),
    }),
  );
});
// Self-test before taking work: proves the modules load and warms the parse path, so the
// first real message is not charged for JIT warm-up against its timeout.
parse(new Uint8Array(Buffer.from('From: a@example.com\r\nSubject: warm-up\r\n\r\nok\r\n')), { maxParts: 10, maxDepth: 5 }).then(
  () => parentPort.postMessage({ type: 'ready' }),
  (err) => { throw err; },
);
`;
