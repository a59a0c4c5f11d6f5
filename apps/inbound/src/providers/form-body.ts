/**
 * Reads the form bodies providers post (Mailgun's route forward, SendGrid's Inbound Parse):
 * `multipart/form-data` or `application/x-www-form-urlencoded`, from the raw bytes we already
 * hold (capped by the raw-body middleware). Values stay bytes: a raw MIME message may carry 8-bit
 * text in any charset, and it is stored byte for byte, never re-decoded as UTF-8.
 */
export type FormFields = Map<string, Buffer>;

export type FormResult = { ok: true; fields: FormFields } | { ok: false; status: 400 | 415; error: string };

const MAX_PARTS = 200;

function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0].trim().toLowerCase();
}

function boundaryOf(contentType: string): string | null {
  const m = /;\s*boundary=(?:"([^"]{1,200})"|([^\s;"]{1,200}))/i.exec(contentType);
  return m ? (m[1] ?? m[2]) : null;
}

/** Only the first value of a repeated field is kept: providers send each field once. */
export function parseFormBody(contentType: string | undefined, body: Buffer): FormResult {
  const type = mediaType(contentType);
  if (type === 'application/x-www-form-urlencoded') return { ok: true, fields: urlencoded(body) };
  if (type !== 'multipart/form-data') return { ok: false, status: 415, error: 'expected Content-Type multipart/form-data or application/x-www-form-urlencoded' };
  const boundary = boundaryOf(contentType as string);
  if (!boundary) return { ok: false, status: 400, error: 'multipart body without a boundary' };
  return multipart(body, boundary);
}

function urlencoded(body: Buffer): FormFields {
  const fields: FormFields = new Map();
  for (const pair of body.toString('latin1').split('&').slice(0, MAX_PARTS)) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const name = percentDecode(eq < 0 ? pair : pair.slice(0, eq)).toString('utf8');
    if (!fields.has(name)) fields.set(name, percentDecode(eq < 0 ? '' : pair.slice(eq + 1)));
  }
  return fields;
}

function percentDecode(s: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '+') out.push(0x20);
    else if (c === '%' && /^[0-9a-f]{2}$/i.test(s.slice(i + 1, i + 3))) {
      out.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(s.charCodeAt(i) & 0xff);
  }
  return Buffer.from(out);
}

function multipart(body: Buffer, boundary: string): FormResult {
  const fields: FormFields = new Map();
  const delimiter = Buffer.from(`--${boundary}`);
  let pos = body.indexOf(delimiter);
  if (pos < 0) return { ok: false, status: 400, error: 'multipart body without its boundary' };
  for (let parts = 0; parts < MAX_PARTS; parts++) {
    pos += delimiter.length;
    if (body.subarray(pos, pos + 2).toString('latin1') === '--') return { ok: true, fields }; // closing delimiter
    // The delimiter line ends with CRLF (some senders write LF).
    const lineEnd = body.indexOf('\n', pos);
    if (lineEnd < 0) break;
    const start = lineEnd + 1;
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), start);
    const nextLf = next >= 0 ? next : body.indexOf(Buffer.concat([Buffer.from('\n'), delimiter]), start);
    if (nextLf < 0) break;
    const part = body.subarray(start, nextLf);
    const headerEnd = indexOfBlankLine(part);
    if (headerEnd.at < 0) return { ok: false, status: 400, error: 'multipart part without headers' };
    const headers = part.subarray(0, headerEnd.at).toString('latin1');
    const name = /content-disposition:[^\r\n]*?;\s*name="([^"]*)"/i.exec(headers)?.[1] ?? /content-disposition:[^\r\n]*?;\s*name=([^\s;]+)/i.exec(headers)?.[1];
    if (name !== undefined && !fields.has(name)) fields.set(name, part.subarray(headerEnd.at + headerEnd.length));
    pos = next >= 0 ? next + 2 : nextLf + 1;
  }
  return { ok: false, status: 400, error: 'malformed multipart body' };
}

function indexOfBlankLine(b: Buffer): { at: number; length: number } {
  const crlf = b.indexOf('\r\n\r\n');
  const lf = b.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf <= lf)) return { at: crlf, length: 4 };
  return { at: lf, length: 2 };
}
