/**
 * TLS to the relay with real TLS: smtp-server relays presenting a certificate from a CA made at
 * test time. With SMTP_REQUIRE_TLS nothing is handed to a relay that offers no STARTTLS; the
 * private CA comes from SMTP_CA_FILE (per transport, not process-wide); smtps:// works; each
 * connection is counted by the TLS version it negotiated; a pooled connection carries
 * SMTP_MAX_MESSAGES messages before it is replaced.
 */
import { readFileSync } from 'node:fs';
import { SMTPServer } from 'smtp-server';
import { parseConfig, smtpRequiresTls } from '@mz/contracts';
import { MetricsService } from '@mz/platform';
import { createTestCa, type TestCa } from '../../../test/support/test-ca';
import { classifySmtpError } from './classify-smtp-error';
import { SmtpTransport } from './smtp.transport';

const logger = { warn: () => undefined } as unknown as import('pino').Logger;
const mail = (n: string) => ({ from: 'mentor@mentor.test', to: 'reader@example.com', envelope: { from: 'b+x@reply.mentor.test', to: 'reader@example.com' }, subject: `s ${n}`, messageId: `<${n}@mentor.test>`, headers: {}, text: 'Hello', html: '<p>Hello</p>' });

interface Relay { port: number; received: number; connections: number; close(): Promise<void> }

async function relay(opts: { ca?: TestCa; secure?: boolean; starttls: boolean; maxVersion?: 'TLSv1.2' }): Promise<Relay> {
  const pair = opts.ca ? opts.ca.issue('localhost', `relay-${Math.random().toString(36).slice(2)}`) : null;
  const r = { received: 0, connections: 0 } as Relay;
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
      stream.resume();
      stream.on('end', () => {
        r.received++;
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
