import { readFileSync } from 'node:fs';
import { rootCertificates, type TLSSocket } from 'node:tls';
import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { createTransport, type Transporter } from 'nodemailer';
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import { type AppConfig, smtpRequiresTls } from '@mz/contracts';
import { loadDkimKeys } from '@mz/domain';
import { APP_CONFIG, LOGGER, MetricsService, SpanKind, tracingEnabled, withSpan } from '@mz/platform';
import { CoalescingStream } from './coalescing-stream';
import type { OutgoingMail } from './render-mail';

export interface SmtpAccepted {
  /** The server's final reply, e.g. `250 2.0.0 Ok: queued as 4Xyz`. */
  response: string;
}

/**
 * The one door to SMTP: a pooled nodemailer transport (SMTP_POOL_SIZE connections) built from
 * SMTP_URL. It is closed on application shutdown — after the workers have drained — so running
 * sends finish on open connections. No `verify()` at boot: a mail server that is down at start is
 * a retryable network failure per letter, not a reason to crash-loop.
 *
 * Every message is DKIM-signed (nodemailer's `dkim` option, rsa-sha256, relaxed/relaxed) with
 * DKIM_SELECTOR's key when DKIM is configured; a bad key stops the service at start. The next
 * key (DKIM_NEXT_*) only goes to DNS: signing starts when it becomes DKIM_SELECTOR.
 *
 * TLS to the relay (Postfix's smtp_tls_security_level = encrypt): with SMTP_REQUIRE_TLS (default
 * unless the relay is on loopback) nothing is handed over on a connection that did not upgrade —
 * a relay without STARTTLS fails the attempt (`ETLS`, retried as a network failure, counted by
 * mz_smtp_tls_failures_total). Certificates are always verified, TLS 1.2 at least; SMTP_CA_FILE
 * adds a private CA to the system's for this transport only. `smtps://` is implicit TLS (465).
 */
@Injectable()
export class SmtpTransport implements OnApplicationShutdown {
  private readonly transporter: Transporter;

  /** The `d=`/`s=` letters are signed with, or null when unsigned. */
  readonly dkim: { domain: string; selector: string } | null;

  /** Whether a plaintext hand-over is refused (SMTP_REQUIRE_TLS, else not loopback). */
  readonly requireTls: boolean;
  private readonly tlsFailures;
  private readonly connections: Counter<'tls_version'>;
  /** Pool connections already counted in mz_smtp_connections_total (each once, whatever it sends). */
  private readonly counted = new WeakSet<object>();

  /** The relay's host and port, for spans (no credentials: SMTP_URL may carry them). */
  private readonly relay: { 'server.address': string; 'server.port'?: number };

  constructor(@Inject(APP_CONFIG) config: AppConfig, @Inject(LOGGER) logger: Logger, metrics: MetricsService) {
    const relayUrl = new URL(config.SMTP_URL);
    this.relay = { 'server.address': relayUrl.hostname, ...(relayUrl.port ? { 'server.port': Number(relayUrl.port) } : {}) };
    this.requireTls = smtpRequiresTls(config);
    this.tlsFailures = metrics.counter('mz_smtp_tls_failures_total', 'SMTP attempts that failed to set up TLS with the relay (no STARTTLS, untrusted certificate, old protocol): nothing was sent');
    this.connections = metrics.counter('mz_smtp_connections_total', 'Connections to the SMTP relay that carried mail, by negotiated TLS version (TLSv1.2, TLSv1.3; none: plaintext, possible only without SMTP_REQUIRE_TLS)', ['tls_version']);
    const keys = loadDkimKeys(config);
    this.dkim = keys ? { domain: keys.current.domain, selector: keys.current.selector } : null;
    if (!keys && config.NODE_ENV === 'production') {
      logger.warn('DKIM is not configured (DKIM_DOMAIN, DKIM_SELECTOR, DKIM_PRIVATE_KEY): mail leaves unsigned and large mailbox providers will junk or refuse it');
    }
    this.transporter = createTransport({
      url: config.SMTP_URL,
      pool: true,
      maxConnections: config.SMTP_POOL_SIZE,
      maxMessages: config.SMTP_MAX_MESSAGES,
      // nodemailer's defaults (2 min connect, 10 min socket) would hold a letter's lease far too long.
      connectionTimeout: 15_000,
      greetingTimeout: 15_000,
      socketTimeout: 60_000,
      requireTLS: this.requireTls,
      tls: {
        rejectUnauthorized: true,
        minVersion: 'TLSv1.2',
        // `ca` replaces Node's trust store: keep the public roots and add the private CA.
        ...(config.SMTP_CA_FILE ? { ca: [...rootCertificates, readCaFile(config.SMTP_CA_FILE)] } : {}),
      },
      ...(keys ? { dkim: { domainName: keys.current.domain, keySelector: keys.current.selector, privateKey: keys.current.privateKeyPem } } : {}),
    });
    // Each message's chunks are joined before they reach the socket: a letter's body goes out in
    // one write instead of one per MIME chunk (nodemailer's documented 'stream' plugin step; its
    // transforms run before DKIM signs, so the signature covers the same bytes).
    this.transporter.use('stream', (mail, done) => {
      mail.message.transform(new CoalescingStream());
      done();
    });
  }

  /**
   * Resolves when the server accepted the message for its one recipient; rejects with nodemailer's
   * error (responseCode/code) otherwise — `classifySmtpError` decides what that means.
   */
  send(mail: OutgoingMail): Promise<SmtpAccepted> {
    // One client span per SMTP transaction: the relay, never the recipient (docs/architecture.md §6).
    if (!tracingEnabled()) return this.transact(mail);
    return withSpan('smtp send', { kind: SpanKind.CLIENT, attributes: { 'network.protocol.name': 'smtp', ...this.relay } }, () => this.transact(mail));
  }

  private async transact(mail: OutgoingMail): Promise<SmtpAccepted> {
    let info;
    try {
      info = await this.transporter.sendMail({ ...mail, disableFileAccess: true, disableUrlAccess: true });
    } catch (err) {
      if ((err as { code?: string }).code === 'ETLS') this.tlsFailures.inc();
      throw err;
    }
    if ((info.rejected?.length ?? 0) > 0 || (info.accepted?.length ?? 0) === 0) {
      // Single-recipient mail: a partial accept cannot happen, but never report a refusal as sent.
      throw Object.assign(new Error('recipient not accepted'), { code: 'EENVELOPE', response: info.response });
    }
    this.countNewConnections();
    return { response: info.response ?? '' };
  }

  /**
   * Counts each pool connection once, by the TLS version it negotiated, once it has carried a
   * message (so a connection still in its handshake is never read as plaintext). nodemailer has
   * no public way to the socket of a pooled connection — neither `info` nor an event names it,
   * and `getSocket` only sees the plain socket that STARTTLS later wraps — so this reads the pool's
   * own fields; smtp-tls.int-spec asserts the labels, so a nodemailer change that moves them fails
   * a test instead of silently counting nothing.
   */
  private countNewConnections(): void {
    const pool = (this.transporter as unknown as { transporter?: { _connections?: PooledResource[] } }).transporter;
    for (const resource of pool?._connections ?? []) {
      const connection = resource.connection;
      if (!connection || !(resource.messages > 0) || connection.upgrading || this.counted.has(connection)) continue;
      this.counted.add(connection);
      const socket = connection._socket as Partial<TLSSocket> | undefined;
      const version = connection.secure ? (socket?.getProtocol?.() ?? 'unknown') : 'none';
      this.connections.inc({ tls_version: version });
    }
  }

  onApplicationShutdown(): void {
    this.transporter.close();
  }
}

/** The fields of nodemailer's PoolResource / SMTPConnection that countNewConnections reads. */
interface PooledResource {
  messages: number;
  connection?: { secure?: boolean; upgrading?: boolean; _socket?: unknown };
}

/** SMTP_CA_FILE's PEM; an unreadable file stops the mailer at start, naming the variable. */
function readCaFile(file: string): string {
  try {
    const pem = readFileSync(file, 'utf8');
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new Error('no PEM certificate in it');
    return pem;
  } catch (err) {
    throw new Error(`SMTP_CA_FILE ${file}: ${(err as Error).message}`);
  }
}
