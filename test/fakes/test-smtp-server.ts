/**
 * A capturing SMTP server on loopback, for e2e, fault and benchmark runs. The mailer talks to it
 * through its real pooled nodemailer transport (SMTP_URL = `smtp.url`), so pooling, response codes
 * and the failure classifier see genuine SMTP replies.
 *
 * Built on `smtp-server`; no Jest imports, so the benchmark can compile it with SWC and run it in
 * plain Node. Scripted rejections answer with real reply codes (nodemailer exposes them as
 * `err.responseCode`), and a 421 closes the connection afterwards, as RFC 5321 §3.8 requires.
 */
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';

export type SmtpScriptStep =
  | { kind: 'accept'; delayMs?: number }
  /**
   * Reply `code` instead of accepting. `at` chooses the stage (default 'data': after the message
   * was transmitted). 'connect' refuses the greeting of the next new connection — or, when the next
   * message comes on an already open pooled connection first, answers its MAIL FROM. Any 421 also
   * closes the connection.
   */
  | { kind: 'reject'; code: number; message?: string; at?: 'connect' | 'mail' | 'rcpt' | 'data' };

export interface CapturedMail {
  raw: Buffer;
  envelope: { from: string; to: string[] };
  messageId?: string;
  subject?: string;
  /**
   * Lower-case header names. Parsed values from mailparser when `parse` is on (addresses, dates;
   * note mailparser folds List-* headers into one 'list' entry); `rawHeaders` when it is off.
   */
  headers: Map<string, unknown>;
  /** Lower-case header name → unfolded raw value (first occurrence), whatever `parse` says. */
  rawHeaders: Map<string, string>;
  text?: string;
  html?: string | false;
  /** The full mailparser result (from, to, attachments, …) when `parse` is on. */
  parsed?: ParsedMail;
  receivedAt: number;
}

/** A message the server refused on script, for asserting how often a sender tried. */
export interface RejectedMail {
  envelope: { from: string; to: string[] };
  code: number;
  at: 'connect' | 'mail' | 'rcpt' | 'data';
  rejectedAt: number;
}

export interface TestSmtpServerOptions {
  /** Default 0: an ephemeral port. */
  port?: number;
  /** Delay before each accepted message is acknowledged. Default 0. */
  acceptDelayMs?: number;
  /** Parse every message with mailparser. Default true; the benchmark turns it off for speed. */
  parse?: boolean;
}

type Reject = Extract<SmtpScriptStep, { kind: 'reject' }>;
type Stage = RejectedMail['at'];

export class TestSmtpServer {
  readonly messages: CapturedMail[] = [];
  readonly rejected: RejectedMail[] = [];

  private readonly server: SMTPServer;
  private listenPort = 0;
  private steps: SmtpScriptStep[] = [];
  private acceptDelayMs: number;
  private readonly parse: boolean;
  /** The step chosen at MAIL FROM applies to the rest of that transaction. */
  private readonly transactionStep = new WeakMap<SMTPServerSession, SmtpScriptStep>();
  private readonly rcptRejectionRecorded = new WeakSet<SMTPServerSession>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private connections = 0;
  private closed = false;

  private constructor(opts: TestSmtpServerOptions) {
    this.acceptDelayMs = opts.acceptDelayMs ?? 0;
    this.parse = opts.parse ?? true;
    this.server = new SMTPServer({
      name: 'fake-smtp.test',
      banner: 'Mentor Zero test SMTP server',
      logger: false,
      // Plain SMTP on loopback: no STARTTLS, and AUTH accepted but never required.
      disabledCommands: ['STARTTLS'],
      authOptional: true,
      allowInsecureAuth: true,
      closeTimeout: 200,
      onAuth: (auth, _session, callback) => callback(null, { user: auth.username ?? 'anonymous' }),
      onConnect: (session, callback) => this.onConnect(session, callback),
      onMailFrom: (address, session, callback) => this.onMailFrom(address.address, session, callback),
      onRcptTo: (address, session, callback) => this.onRcptTo(address.address, session, callback),
      onData: (stream, session, callback) => this.onData(stream, session, callback),
    });
  }

  static async start(opts: TestSmtpServerOptions = {}): Promise<TestSmtpServer> {
    const smtp = new TestSmtpServer(opts);
    const server = smtp.server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    smtp.listenPort = (smtp.server.server.address() as AddressInfo).port;
    // Client sockets that drop mid-session surface here; they are the client's business, not a crash.
    server.on('error', () => undefined);
    return smtp;
  }

  get port(): number {
    return this.listenPort;
  }

  /** `smtp://127.0.0.1:<port>`, for SMTP_URL / `createTransport({ url })`. */
  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  /** Queue steps; each message consumes one (at MAIL FROM), then messages are accepted. */
  script(...steps: SmtpScriptStep[]): void {
    this.steps.push(...steps);
  }

  setAcceptDelay(ms: number): void {
    this.acceptDelayMs = Math.max(0, ms);
  }

  /** Steps still queued (useful to assert a script was fully consumed). */
  pendingSteps(): number {
    return this.steps.length;
  }

  count(): number {
    return this.messages.length;
  }

  /** SMTP connections opened so far (refused ones included): shows whether a sender pools. */
  connectionCount(): number {
    return this.connections;
  }

  /** Resolves with all captured messages once `predicate` holds; polls every 20 ms. */
  waitFor(predicate: (msgs: CapturedMail[]) => boolean, timeoutMs = 10_000): Promise<CapturedMail[]> {
    const deadline = Date.now() + timeoutMs;
    return new Promise((resolve, reject) => {
      const check = () => {
        let ok: boolean;
        try {
          ok = predicate(this.messages);
        } catch (err) {
          return reject(err);
        }
        if (ok) return resolve(this.messages);
        if (Date.now() >= deadline) return reject(new Error(`TestSmtpServer.waitFor timed out after ${timeoutMs} ms; ${this.describe()}`));
        setTimeout(check, 20);
      };
      check();
    });
  }

  waitForCount(n: number, timeoutMs = 10_000): Promise<CapturedMail[]> {
    return this.waitFor((msgs) => msgs.length >= n, timeoutMs).catch((err: Error) => {
      throw new Error(`expected at least ${n} message(s): ${err.message}`);
    });
  }

  /** Clears the script, captured and rejected messages and the connection count; the accept delay is kept. */
  reset(): void {
    this.steps = [];
    this.messages.length = 0;
    this.rejected.length = 0;
    this.connections = 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private describe(): string {
    const last = this.messages.slice(-5).map((m) => `${m.envelope.to.join(',')} "${m.subject ?? ''}"`);
    return `${this.messages.length} captured, ${this.rejected.length} rejected, ${this.steps.length} script step(s) left` +
      (last.length ? `; last: ${last.join(' | ')}` : '');
  }

  private onConnect(session: SMTPServerSession, callback: (err?: Error | null) => void): void {
    this.connections++;
    const head = this.steps[0];
    if (head?.kind === 'reject' && head.at === 'connect') {
      this.steps.shift();
      return callback(this.reject(head, session, 'connect'));
    }
    callback();
  }

  private onMailFrom(from: string, session: SMTPServerSession, callback: (err?: Error | null) => void): void {
    const step = this.steps.shift() ?? { kind: 'accept' };
    this.transactionStep.set(session, step);
    this.rcptRejectionRecorded.delete(session);
    if (step.kind === 'reject' && (step.at === 'mail' || step.at === 'connect')) return callback(this.reject(step, session, 'mail', { from, to: [] }));
    callback();
  }

  private onRcptTo(address: string, session: SMTPServerSession, callback: (err?: Error | null) => void): void {
    const step = this.transactionStep.get(session);
    if (step?.kind === 'reject' && step.at === 'rcpt') {
      // Every recipient is refused; the message counts once in `rejected`.
      const first = !this.rcptRejectionRecorded.has(session);
      this.rcptRejectionRecorded.add(session);
      const envelope = { from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: [address] };
      return callback(first ? this.reject(step, session, 'rcpt', envelope) : smtpError(step));
    }
    callback();
  }

  private onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback: (err?: Error | null, message?: string) => void): void {
    const step = this.transactionStep.get(session) ?? { kind: 'accept' };
    this.transactionStep.delete(session);
    const envelope = this.envelopeOf(session);
    const chunks: Buffer[] = [];
    // The stream must be drained whatever the verdict, or the session stalls.
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', (err) => callback(err));
    stream.on('end', () => {
      if (step.kind === 'reject') return callback(this.reject(step, session, 'data', envelope));
      const raw = Buffer.concat(chunks);
      const delay = step.delayMs ?? this.acceptDelayMs;
      const finish = () => {
        this.capture(raw, envelope).then(
          (mail) => callback(null, `OK: queued as ${mail.messageId ?? this.messages.length}`),
          (err: unknown) => callback(Object.assign(new Error(`capture failed: ${String(err)}`), { responseCode: 451 })),
        );
      };
      if (delay <= 0) return finish();
      const t = setTimeout(() => {
        this.timers.delete(t);
        finish();
      }, delay);
      this.timers.add(t);
    });
  }

  /** Parses before acknowledging, so a message is in `messages` by the time the sender sees 250. */
  private async capture(raw: Buffer, envelope: CapturedMail['envelope']): Promise<CapturedMail> {
    const rawHeaders = readRawHeaders(raw);
    const common = { raw, envelope, rawHeaders, messageId: rawHeaders.get('message-id') };
    let mail: CapturedMail;
    if (this.parse) {
      const parsed = await simpleParser(raw, { skipImageLinks: true });
      mail = {
        ...common,
        parsed,
        messageId: parsed.messageId ?? common.messageId,
        subject: parsed.subject,
        headers: parsed.headers as Map<string, unknown>,
        text: parsed.text,
        html: parsed.html,
        receivedAt: Date.now(),
      };
    } else {
      // Subject stays as sent (RFC 2047 encoded words are not decoded) to keep this path cheap.
      mail = { ...common, headers: rawHeaders, subject: rawHeaders.get('subject'), receivedAt: Date.now() };
    }
    this.messages.push(mail);
    return mail;
  }

  private reject(step: Reject, session: SMTPServerSession, at: Stage, envelope = this.envelopeOf(session)): Error {
    this.rejected.push({ envelope, code: step.code, at, rejectedAt: Date.now() });
    return smtpError(step);
  }

  private envelopeOf(session: SMTPServerSession): CapturedMail['envelope'] {
    const from = session.envelope.mailFrom;
    return { from: from ? from.address : '', to: session.envelope.rcptTo.map((r) => r.address) };
  }
}

/** smtp-server replies with `err.responseCode`; a 421 makes it close the connection too. */
function smtpError(step: Reject): Error {
  return Object.assign(new Error(step.message ?? defaultReason(step.code)), { responseCode: step.code });
}

function defaultReason(code: number): string {
  if (code === 421) return 'Service not available, closing transmission channel (scripted)';
  if (code === 550) return 'Mailbox unavailable (scripted)';
  if (code >= 500) return 'Permanent failure (scripted)';
  return 'Temporary failure, try again later (scripted)';
}

/** Header block only, unfolded (RFC 5322 §2.2.3), names lower-cased; the first occurrence wins. */
function readRawHeaders(raw: Buffer): Map<string, string> {
  const end = raw.indexOf('\r\n\r\n');
  const block = raw.subarray(0, end < 0 ? raw.length : end).toString('latin1').replace(/\r\n(?=[ \t])/g, '');
  const headers = new Map<string, string>();
  for (const line of block.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
  }
  return headers;
}
