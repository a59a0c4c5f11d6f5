/**
 * TLS to the relay with real TLS: smtp-server relays presenting a certificate from a CA made at
 * test time. With SMTP_REQUIRE_TLS nothing is handed to a relay that offers no STARTTLS; the
 * private CA comes from SMTP_CA_FILE (per transport, not process-wide); smtps:// works; each
 * connection is counted by the TLS version it negotiated; a pooled connection carries
 * SMTP_MAX_MESSAGES messages before it is replaced; a letter leaves in a handful of socket writes,
 * not one per MIME chunk, plaintext, over TLS and DKIM-signed.
 */
import { generateKeyPairSync } from 'node:crypto';
import { Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { dkimVerify } from 'mailauth';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { parseConfig, smtpRequiresTls } from '@mz/contracts';
import { MetricsService } from '@mz/platform';
import { createTestCa, type TestCa } from '../../../test/support/test-ca';
import { classifySmtpError } from './classify-smtp-error';
import { renderLetterMail } from './render-mail';
import { SmtpTransport } from './smtp.transport';

const logger = { warn: () => undefined } as unknown as import('pino').Logger;
const mail = (n: string) => ({ from: 'mentor@mentor.test', to: 'reader@example.com', envelope: { from: 'b+x@reply.mentor.test', to: 'reader@example.com' }, subject: `s ${n}`, messageId: `<${n}@mentor.test>`, headers: {}, text: 'Hello', html: '<p>Hello</p>' });

interface Relay { port: number; received: number; connections: number; raw: Buffer[]; close(): Promise<void> }

async function relay(opts: { ca?: TestCa; secure?: boolean; starttls: boolean; maxVersion?: 'TLSv1.2' }): Promise<Relay> {
  const pair = opts.ca ? opts.ca.issue('localhost', `relay-${Math.random().toString(36).slice(2)}`) : null;
  const r = { received: 0, connections: 0, raw: [] } as unknown as Relay;
  const server = new SMTPServer({
    secure: opts.secure ?? false,
    authOptional: true,
    disabledCommands: opts.starttls || opts.secure ? ['AUTH'] : ['AUTH', 'STARTTLS'],
    hideSTARTTLS: !opts.starttls,
    ...(pair ? { cert: readFileSync(pair.certFile), key: readFileSync(pair.keyFile) } : {}),
    ...(opts.maxVersion ? { maxVersion: opts.maxVersion } : {}),
    logger: false,
    onConnect(_session, cb) {
      r.connections++;
      cb();
    },
    onData(stream, _session, cb) {
      const parts: Buffer[] = [];
      stream.on('data', (c: Buffer) => parts.push(c));
      stream.on('end', () => {
        r.received++;
        r.raw.push(Buffer.concat(parts));
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  r.port = (server.server.address() as { port: number }).port;
  r.close = () => new Promise((resolve) => server.close(() => resolve()));
  return r;
}

const transport = (env: Record<string, string>) => new SmtpTransport(parseConfig(env), logger, new MetricsService('mailer'));

describe('SMTP_REQUIRE_TLS defaults', () => {
  it('requires TLS unless the relay is on loopback; an explicit value wins', () => {
    expect(smtpRequiresTls(parseConfig({ SMTP_URL: 'smtp://relay.example.com:587' }))).toBe(true);
    expect(smtpRequiresTls(parseConfig({ SMTP_URL: 'smtp://127.0.0.1:1025' }))).toBe(false);
    expect(smtpRequiresTls(parseConfig({ SMTP_URL: 'smtp://localhost:1025' }))).toBe(false);
    expect(smtpRequiresTls(parseConfig({ SMTP_URL: 'smtp://[::1]:1025' }))).toBe(false);
    expect(smtpRequiresTls(parseConfig({ SMTP_URL: 'smtp://127.0.0.1:1025', SMTP_REQUIRE_TLS: 'true' }))).toBe(true);
    expect(smtpRequiresTls(parseConfig({ SMTP_URL: 'smtp://relay.example.com', SMTP_REQUIRE_TLS: 'false' }))).toBe(false);
    expect(() => parseConfig({ SMTP_REQUIRE_TLS: 'yes' })).toThrow(/SMTP_REQUIRE_TLS/);
  });
});

describe('SMTP pool', () => {
  it('a connection carries SMTP_MAX_MESSAGES messages, then the pool opens a new one', async () => {
    const sendOver = async (env: Record<string, string>, n: number) => {
      const r = await relay({ starttls: false });
      const t = transport({ SMTP_URL: `smtp://127.0.0.1:${r.port}`, SMTP_POOL_SIZE: '1', ...env });
      try {
        for (let i = 0; i < n; i++) expect((await t.send(mail(`p${i}`))).response).toMatch(/^250/);
        return { received: r.received, connections: r.connections };
      } finally {
        t.onApplicationShutdown();
        await r.close();
      }
    };
    expect(await sendOver({ SMTP_MAX_MESSAGES: '2' }, 5)).toEqual({ received: 5, connections: 3 });
    // The default (1,000, not nodemailer's 100) keeps one connection for a burst.
    expect(parseConfig({}).SMTP_MAX_MESSAGES).toBe(1000);
    expect(await sendOver({}, 120)).toEqual({ received: 120, connections: 1 });
    expect(() => parseConfig({ SMTP_MAX_MESSAGES: '0' })).toThrow(/SMTP_MAX_MESSAGES/);
  });
});

describe('writes per message', () => {
  // A letter of realistic size: a few paragraphs, both parts, quote, footer and list headers.
  const paragraph = 'Begin with the one task that matters, and give it the first quiet hour of the day. ';
  const letter = (n: number) => renderLetterMail({
    from: 'Mentor Zero <mentor@mentor.test>', to: 'reader@example.com',
    addresses: { reply: `r+${n}@reply.mentor.test`, bounce: `b+l${n}@reply.mentor.test` },
    letter: { id: `id-${n}`, messageId: `<w${n}@mentor.test>`, subject: `Letter ${n}`, bodyText: `Dear reader,\n\n${paragraph.repeat(20)}\n`, bodyHtml: `<p>Dear reader,</p><p>${paragraph.repeat(20)}</p>` },
    topic: { code: 'focus', name: 'Focus' },
    footer: { textTemplate: 'Sign in: {{login_link}}\nLeave: {{unsubscribe_link}}', htmlTemplate: '<p><a href="{{login_link}}">Sign in</a> · <a href="{{unsubscribe_link}}">Leave</a></p>' },
    quote: { text: 'Well begun is half done.', author: 'Aristotle' },
    links: { login: 'https://mentor.test/login/abc', unsubscribe: 'https://mentor.test/u/def', unsubscribeMailto: 'mailto:u+x@reply.mentor.test' },
  });

  /** Sends two letters over one pooled connection; counts the client's socket `write` calls for the second (the connection warm). */
  async function writesForOneLetter(r: Relay, env: Record<string, string>): Promise<{ writes: number; raw: Buffer }> {
    const t = transport({ SMTP_POOL_SIZE: '1', ...env });
    const write = Socket.prototype.write;
    let writes = 0;
    try {
      await t.send(letter(1));
      // TLSSocket inherits this write too; the relay's own sockets (same process) have it as local port.
      Socket.prototype.write = function (this: Socket, ...args: unknown[]) {
        if (this.remotePort === r.port) writes++;
        return (write as (...a: unknown[]) => boolean).apply(this, args);
      } as typeof write;
      await t.send(letter(2));
    } finally {
      Socket.prototype.write = write;
      t.onApplicationShutdown();
      await r.close();
    }
    expect(r.received).toBe(2);
    return { writes, raw: r.raw[1] };
  }

  const expectLetter = async (raw: Buffer) => {
    const parsed = await simpleParser(raw);
    expect(parsed.subject).toBe('Letter 2');
    expect(parsed.text).toContain(paragraph.repeat(20).trim());
    expect(parsed.html).toContain(`<p>${paragraph.repeat(20)}</p>`);
  };

  it('a letter leaves in a handful of writes (envelope batch, body, end), its bytes intact', async () => {
    // MAIL FROM + RCPT TO + DATA go out corked (PIPELINING), then the whole body, then the final dot:
    // 5 writes. Chunk by chunk, as nodemailer streams the MIME tree, it was 13.
    const r = await relay({ starttls: false });
    const plain = await writesForOneLetter(r, { SMTP_URL: `smtp://127.0.0.1:${r.port}` });
    expect(plain.writes).toBeGreaterThanOrEqual(3); // the count sees the SMTP socket at all
    expect(plain.writes).toBeLessThanOrEqual(5);
    await expectLetter(plain.raw);
  });

  it('over STARTTLS too (each write would be a TLS record of its own), and a DKIM signature still verifies', async () => {
    const ca = createTestCa('mz-writes-ca');
    try {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const r = await relay({ ca, starttls: true });
      const tls = await writesForOneLetter(r, {
        SMTP_URL: `smtp://localhost:${r.port}`, SMTP_REQUIRE_TLS: 'true', SMTP_CA_FILE: ca.caCertFile,
        DKIM_DOMAIN: 'mentor.test', DKIM_SELECTOR: 'mz1', DKIM_PRIVATE_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      });
      // DKIM re-emits what it signed as headers, its own field and the body: 7 writes, against 12
      // chunk by chunk.
      expect(tls.writes).toBeGreaterThanOrEqual(3);
      expect(tls.writes).toBeLessThanOrEqual(7);
      await expectLetter(tls.raw);
      const p = (publicKey.export({ type: 'spki', format: 'der' }) as Buffer).toString('base64');
      const resolver = async (name: string, type: string) => {
        if (type === 'TXT' && name === 'mz1._domainkey.mentor.test') return [[`v=DKIM1; k=rsa; p=${p}`]];
        throw Object.assign(new Error(`no ${type} ${name}`), { code: 'ENOTFOUND' });
      };
      const verified = await dkimVerify(tls.raw, { resolver });
      expect(verified.results.map((v) => [v.signingDomain, v.selector, v.status.result])).toEqual([['mentor.test', 'mz1', 'pass']]);
    } finally {
      ca.dispose();
    }
  });
});

describe('TLS to the relay', () => {
  let ca: TestCa;
  beforeAll(() => {
    ca = createTestCa('mz-relay-ca');
  });
  afterAll(() => ca?.dispose());

  it('delivers over STARTTLS to a relay whose private CA comes from SMTP_CA_FILE', async () => {
    const r = await relay({ ca, starttls: true });
    const t = transport({ SMTP_URL: `smtp://localhost:${r.port}`, SMTP_REQUIRE_TLS: 'true', SMTP_CA_FILE: ca.caCertFile });
    try {
      expect((await t.send(mail('a'))).response).toMatch(/^250/);
      expect(r.received).toBe(1);
    } finally {
      t.onApplicationShutdown();
      await r.close();
    }
  });

  it('without the CA the relay is not trusted: nothing is sent, a network-class TLS failure', async () => {
    const r = await relay({ ca, starttls: true });
    const t = transport({ SMTP_URL: `smtp://localhost:${r.port}`, SMTP_REQUIRE_TLS: 'true' });
    try {
      const err = await t.send(mail('b')).catch((e: unknown) => e);
      expect(classifySmtpError(err)).toMatchObject({ failureClass: 'network', hardBounce: false });
      expect(r.received).toBe(0);
    } finally {
      t.onApplicationShutdown();
      await r.close();
    }
  });

  it('a relay that offers no STARTTLS receives nothing; the failure is visible and retried, never plaintext', async () => {
    const r = await relay({ starttls: false });
    const metrics = new MetricsService('mailer');
    const t = new SmtpTransport(parseConfig({ SMTP_URL: `smtp://localhost:${r.port}`, SMTP_REQUIRE_TLS: 'true' }), logger, metrics);
    try {
      const err = await t.send(mail('c')).catch((e: unknown) => e);
      expect((err as { code?: string }).code).toBe('ETLS');
      const failure = classifySmtpError(err);
      expect(failure).toMatchObject({ failureClass: 'network', hardBounce: false });
      expect(failure.summary).toMatch(/TLS to the relay failed/);
      expect(r.received).toBe(0);
      expect((await metrics.registry.getSingleMetric('mz_smtp_tls_failures_total')!.get()).values[0].value).toBe(1);
      // The same relay on loopback without SMTP_REQUIRE_TLS (the local mail catcher) still works.
      const local = transport({ SMTP_URL: `smtp://127.0.0.1:${r.port}` });
      expect((await local.send(mail('d'))).response).toMatch(/^250/);
      local.onApplicationShutdown();
    } finally {
      t.onApplicationShutdown();
      await r.close();
    }
  });

  it('smtps:// is implicit TLS (465-style), verified against SMTP_CA_FILE', async () => {
    const r = await relay({ ca, secure: true, starttls: false });
    const t = transport({ SMTP_URL: `smtps://localhost:${r.port}`, SMTP_CA_FILE: ca.caCertFile });
    try {
      expect((await t.send(mail('e'))).response).toMatch(/^250/);
      expect(r.received).toBe(1);
    } finally {
      t.onApplicationShutdown();
      await r.close();
    }
  });

  it('counts connections that carried mail by negotiated TLS version, each connection once', async () => {
    const metrics = new MetricsService('mailer');
    const counts = async () => Object.fromEntries((await metrics.registry.getSingleMetric('mz_smtp_connections_total')!.get()).values.map((v) => [v.labels.tls_version, v.value]));
    const send = async (r: Relay, env: Record<string, string>, n: number) => {
      const t = new SmtpTransport(parseConfig({ SMTP_POOL_SIZE: '1', ...env }), logger, metrics);
      try {
        for (let i = 0; i < n; i++) expect((await t.send(mail(`v${i}`))).response).toMatch(/^250/);
      } finally {
        t.onApplicationShutdown();
        await r.close();
      }
    };
    // STARTTLS to a relay allowing TLS 1.3: three messages over one pooled connection count once.
    const modern = await relay({ ca, starttls: true });
    await send(modern, { SMTP_URL: `smtp://localhost:${modern.port}`, SMTP_REQUIRE_TLS: 'true', SMTP_CA_FILE: ca.caCertFile }, 3);
    expect(modern.received).toBe(3);
    expect(await counts()).toEqual({ 'TLSv1.3': 1 });
    // A relay that stops at TLS 1.2 (the lowest the mailer accepts).
    const older = await relay({ ca, starttls: true, maxVersion: 'TLSv1.2' });
    await send(older, { SMTP_URL: `smtp://localhost:${older.port}`, SMTP_REQUIRE_TLS: 'true', SMTP_CA_FILE: ca.caCertFile }, 1);
    expect(await counts()).toEqual({ 'TLSv1.3': 1, 'TLSv1.2': 1 });
    // Implicit TLS (smtps://).
    const implicit = await relay({ ca, secure: true, starttls: false });
    await send(implicit, { SMTP_URL: `smtps://localhost:${implicit.port}`, SMTP_CA_FILE: ca.caCertFile }, 1);
    expect(await counts()).toEqual({ 'TLSv1.3': 2, 'TLSv1.2': 1 });
    // The local mail catcher on loopback, plaintext allowed: visible as such.
    const local = await relay({ starttls: false });
    await send(local, { SMTP_URL: `smtp://127.0.0.1:${local.port}` }, 1);
    expect(await counts()).toEqual({ 'TLSv1.3': 2, 'TLSv1.2': 1, none: 1 });
  });

  it('an unreadable SMTP_CA_FILE stops the mailer at start, naming the variable', () => {
    expect(() => transport({ SMTP_CA_FILE: '/nonexistent/ca.pem' })).toThrow(/SMTP_CA_FILE \/nonexistent\/ca\.pem/);
  });
});
