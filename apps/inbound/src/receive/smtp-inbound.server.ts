import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { SMTPServer, type SMTPServerAddress, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import type { AppConfig } from '@mz/contracts';
import { looksSigned, mailAddressSecret, verifySignedAddress } from '@mz/domain';
import { APP_CONFIG, LOGGER } from '@mz/platform';
import { INBOUND_OPTIONS, type InboundOptions } from '../inbound-options';
import { InboundMetrics } from '../inbound.metrics';
import { InboundStore } from './inbound-store.service';
import { INBOUND_TLS_OPTIONS, loadTlsPair, type TlsPair } from './tls-certificate';

type SmtpError = Error & { responseCode: number };

function smtpError(code: number, message: string): SmtpError {
  return Object.assign(new Error(message), { responseCode: code });
}

/** The domain of an SMTP address, lower-cased; '' for anything we cannot read. */
export function recipientDomain(address: string): string {
  const at = address.lastIndexOf('@');
  return at > 0 ? address.slice(at + 1).trim().toLowerCase().replace(/\.$/, '') : '';
}

/**
 * The MX for REPLY_DOMAIN (docs/architecture.md §4). Accepts mail for that one domain and nothing else (never a
 * relay: 550 for any other recipient), no AUTH (there are no users to log in). STARTTLS when
 * INBOUND_TLS_CERT_FILE/KEY_FILE are set (TLS 1.2+, AEAD ciphers): the files are re-read every
 * `tlsReloadMs`, and a renewed pair is served to new connections without a restart; an unreadable
 * or mismatched pair keeps the one in use (logged, mz_inbound_tls_reloads_total{outcome="error"}).
 * Senders stay free to deliver in plaintext — MTA-STS is how a domain asks them not to. The size cap is announced
 * with the SIZE extension and enforced twice: at MAIL FROM (declared SIZE) and while the DATA
 * streams in (552 either way; we stop buffering past the cap). Connections and messages are
 * rate-limited per client IP. The message is accepted (250) only after it is stored.
 *
 * A recipient in one of our signed forms (`r+…`, `b+…`, `u+…`) must carry a valid signature
 * (550 5.1.1 otherwise: a guessed or altered address is refused at the door); other local parts
 * on the domain are accepted as before (the pre-signing `reply@`, `postmaster@`) and can only
 * ever reach review. The envelope (RCPT TO, MAIL FROM, client IP, HELO) is stored with the message:
 * the worker authenticates with it and acts on the signed recipient.
 */
@Injectable()
export class InboundSmtpServer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger: Logger;
  private readonly server: SMTPServer;
  private readonly connections: RateLimiterMemory;
  private readonly messages: RateLimiterMemory;
  private boundPort: number | null = null;
  private readonly addressSecret: string;
  private closing = false;
  private tls: TlsPair | null = null;
  private tlsTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: InboundStore,
    private readonly metrics: InboundMetrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(INBOUND_OPTIONS) private readonly options: InboundOptions,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.logger = logger.child({ component: 'inbound-smtp' });
    this.addressSecret = mailAddressSecret(config);
    this.connections = new RateLimiterMemory({ keyPrefix: 'smtp-conn', points: options.smtpConnectionsPerMinute, duration: 60 });
    this.messages = new RateLimiterMemory({ keyPrefix: 'smtp-msg', points: options.smtpMessagesPerMinute, duration: 60 });
    // A bad pair at start stops the service (the operator asked for TLS); later renewals only warn.
    this.tls = config.INBOUND_TLS_CERT_FILE && config.INBOUND_TLS_KEY_FILE ? loadTlsPair(config.INBOUND_TLS_CERT_FILE, config.INBOUND_TLS_KEY_FILE) : null;
    if (this.tls) this.metrics.certificateExpiry.set({ use: 'inbound_smtp' }, Math.round((this.tls.validTo.getTime() - Date.now()) / 1000));
    this.server = new SMTPServer({
      banner: 'Mentor Zero inbound',
      size: config.INBOUND_SMTP_MAX_BYTES,
      authOptional: true,
      ...(this.tls
        ? { disabledCommands: ['AUTH'], cert: this.tls.cert, key: this.tls.key, ...INBOUND_TLS_OPTIONS }
        : { disabledCommands: ['AUTH', 'STARTTLS'], hideSTARTTLS: true }),
      disableReverseLookup: true,
      maxClients: options.smtpMaxClients,
      socketTimeout: options.smtpSocketTimeoutMs,
      closeTimeout: Math.min(10_000, Math.max(1_000, Math.floor(config.SHUTDOWN_TIMEOUT_MS / 2))),
      logger: false,
      onConnect: (session, cb) => this.onConnect(session, cb),
      onMailFrom: (address, session, cb) => this.onMailFrom(address, session, cb),
      onRcptTo: (address, session, cb) => this.onRcptTo(address, session, cb),
      onData: (stream, session, cb) => this.onData(stream, session, cb),
      onClose: (session) => this.metrics.smtpSessions.inc({ tls: session.secure ? 'true' : 'false' }),
    });
    this.server.on('error', (err) => this.logger.warn({ err }, 'SMTP server error'));
  }

  /** The port actually listened on (INBOUND_SMTP_PORT=0 picks a free one). */
  get port(): number | null {
    return this.boundPort;
  }

  async onApplicationBootstrap(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.server.once('error', onError);
      this.server.listen(this.config.INBOUND_SMTP_PORT, '0.0.0.0', () => {
        this.server.server.off('error', onError);
        resolve();
      });
    });
    const address = this.server.server.address();
    this.boundPort = typeof address === 'object' && address ? address.port : this.config.INBOUND_SMTP_PORT;
    this.logger.info({ port: this.boundPort, domain: this.config.REPLY_DOMAIN, starttls: Boolean(this.tls) }, 'inbound SMTP listening');
    if (this.tls) {
      this.tlsTimer = setInterval(() => this.reloadTls(), this.options.tlsReloadMs);
      this.tlsTimer.unref();
    }
  }

  /**
   * Re-reads the certificate files; a changed, valid pair goes to new connections (sessions in
   * progress keep theirs). A broken one leaves the pair in use, says so, and is tried again later.
   */
  reloadTls(): void {
    const { INBOUND_TLS_CERT_FILE: certFile, INBOUND_TLS_KEY_FILE: keyFile } = this.config;
    if (!this.tls || !certFile || !keyFile) return;
    let next: TlsPair;
    try {
      next = loadTlsPair(certFile, keyFile);
    } catch (err) {
      this.metrics.tlsReloads.inc({ outcome: 'error' });
      this.logger.error({ error: (err as Error).message }, 'inbound TLS certificate files unusable; keeping the certificate in use');
      return;
    }
    this.metrics.certificateExpiry.set({ use: 'inbound_smtp' }, Math.round((next.validTo.getTime() - Date.now()) / 1000));
    if (next.fingerprint === this.tls.fingerprint && next.key === this.tls.key) return;
    this.server.updateSecureContext({ cert: next.cert, key: next.key, ...INBOUND_TLS_OPTIONS });
    this.tls = next;
    this.metrics.tlsReloads.inc({ outcome: 'ok' });
    this.logger.info({ validTo: next.validTo.toISOString() }, 'inbound TLS certificate renewed');
  }

  /** Stops accepting connections; sessions in progress get the close timeout to finish, then 421. */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.tlsTimer) clearInterval(this.tlsTimer);
    if (this.closing || this.boundPort === null) return;
    this.closing = true;
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onConnect(session: SMTPServerSession, cb: (err?: Error | null) => void): void {
    if (this.closing) return cb(smtpError(421, 'Server shutting down, try again later'));
    this.connections.consume(session.remoteAddress || 'unknown').then(
      () => cb(),
      (rejection: unknown) => {
        if (rejection instanceof Error) return cb(smtpError(421, 'Temporary failure, try again later'));
        this.metrics.smtpRejected.inc({ reason: 'rate_limit_connections' });
        cb(smtpError(421, '4.7.0 Too many connections from your address, try again later'));
      },
    );
  }

  private onMailFrom(_address: SMTPServerAddress, session: SMTPServerSession, cb: (err?: Error | null) => void): void {
    this.messages.consume(session.remoteAddress || 'unknown').then(
      () => cb(),
      (rejection: unknown) => {
        if (rejection instanceof Error) return cb(smtpError(451, 'Temporary failure, try again later'));
        this.metrics.smtpRejected.inc({ reason: 'rate_limit_messages' });
        cb(smtpError(450, '4.7.1 Too many messages from your address, try again later'));
      },
    );
  }

  private onRcptTo(address: SMTPServerAddress, session: SMTPServerSession, cb: (err?: Error | null) => void): void {
    if (recipientDomain(address.address) !== this.config.REPLY_DOMAIN) {
      this.metrics.smtpRejected.inc({ reason: 'relay_denied' });
      return cb(smtpError(550, '5.7.1 Relaying denied: we accept mail only for our reply domain'));
    }
    if (looksSigned(address.address) && !verifySignedAddress(address.address, this.config.REPLY_DOMAIN, this.addressSecret)) {
      this.metrics.smtpRejected.inc({ reason: 'bad_signed_address' });
      return cb(smtpError(550, '5.1.1 No such recipient'));
    }
    if (session.envelope.rcptTo.length >= this.options.smtpMaxRecipients) {
      this.metrics.smtpRejected.inc({ reason: 'too_many_recipients' });
      return cb(smtpError(452, '4.5.3 Too many recipients'));
    }
    cb();
  }

  private onData(stream: SMTPServerDataStream, session: SMTPServerSession, cb: (err?: Error | null, message?: string) => void): void {
    const max = this.config.INBOUND_SMTP_MAX_BYTES;
    const chunks: Buffer[] = [];
    let size = 0;
    let answered = false;
    const answer = (err: Error | null, message?: string) => {
      if (answered) return;
      answered = true;
      cb(err, message);
    };
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= max) chunks.push(chunk); // past the cap: drain, keep nothing, answer 552 at the end
    });
    stream.once('error', (err) => {
      this.logger.warn({ err }, 'SMTP data stream failed');
      answer(smtpError(451, '4.3.0 Temporary failure reading the message, try again later'));
    });
    stream.once('end', () => {
      if (stream.sizeExceeded || size > max) {
        this.metrics.smtpRejected.inc({ reason: 'too_large' });
        return answer(smtpError(552, `5.3.4 Message exceeds the maximum size of ${max} bytes`));
      }
      const mailFrom = session.envelope.mailFrom;
      this.store.store({
        raw: Buffer.concat(chunks, size), source: 'smtp', envelopeFrom: mailFrom ? mailFrom.address : null,
        envelopeTo: session.envelope.rcptTo.map((r) => r.address), remoteAddress: session.remoteAddress || null, helo: session.hostNameAppearsAs || null,
      }).then(
        (r) => answer(null, `2.0.0 Accepted${r.duplicate ? ' (already received)' : ''}`),
        (err) => {
          this.logger.error({ err }, 'could not store an SMTP message; the sender will retry');
          answer(smtpError(451, '4.3.0 Temporary failure storing the message, try again later'));
        },
      );
    });
  }
}
