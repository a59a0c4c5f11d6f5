import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { ImapFlow } from 'imapflow';
import type { Logger } from 'pino';
import type { AppConfig } from '@mz/contracts';
import { APP_CONFIG, LOGGER } from '@mz/platform';
import { InboundMetrics } from '../inbound.metrics';
import { InboundStore } from './inbound-store.service';
import { type ImapTarget, parseImapUrl } from './imap-url';

/** Messages handled per poll; the rest wait for the next one (keeps one poll short). */
const BATCH = 100;

export interface PollResult {
  stored: number;
  duplicates: number;
  /** Not stored this time (left unseen, tried again next poll). */
  failed: number;
}

/**
 * Polls a mailbox (INBOUND_IMAP_URL) every INBOUND_IMAP_POLL_MS for UNSEEN messages. Each is
 * fetched with BODY.PEEK (fetching does not mark it read), stored, and only after the store has
 * committed flagged \Seen (and moved to `?processed=` when set). A crash in between means the
 * message is fetched again next time and deduplicated by its Message-ID; a flagged message is
 * never fetched again. Any connection error drops the client and the next poll reconnects, so a
 * server restart costs at most a poll interval.
 */
@Injectable()
export class ImapPoller implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger: Logger;
  private readonly target: ImapTarget | null;
  private client: ImapFlow | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private processedReady = false;

  constructor(
    private readonly store: InboundStore,
    private readonly metrics: InboundMetrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.logger = logger.child({ component: 'imap-poller' });
    this.target = config.INBOUND_IMAP_URL ? parseImapUrl(config.INBOUND_IMAP_URL) : null;
  }

  get enabled(): boolean {
    return this.target !== null;
  }

  onApplicationBootstrap(): void {
    if (!this.target) return;
    this.logger.info({ host: this.target.host, port: this.target.port, mailbox: this.target.mailbox }, 'IMAP poller started');
    this.schedule(0);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
    await this.disconnect();
  }

  /** One poll now (tests; the timer calls the same). */
  async pollOnce(): Promise<PollResult> {
    if (!this.target) return { stored: 0, duplicates: 0, failed: 0 };
    try {
      const result = await this.poll(this.target);
      this.metrics.imapPolls.inc({ outcome: 'ok' });
      return result;
    } catch (err) {
      this.metrics.imapPolls.inc({ outcome: 'error' });
      await this.disconnect();
      throw err;
    }
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = this.pollOnce()
        .then(
          () => undefined,
          (err: Error) => this.logger.warn({ error: err.message }, 'IMAP poll failed; retrying next interval'),
        )
        .finally(() => {
          this.running = null;
          this.schedule(this.config.INBOUND_IMAP_POLL_MS);
        });
    }, delayMs);
  }

  private async poll(target: ImapTarget): Promise<PollResult> {
    const client = await this.connect(target);
    if (target.processedMailbox && !this.processedReady) {
      await client.mailboxCreate(target.processedMailbox).catch((err: { serverResponseCode?: string }) => {
        if (err?.serverResponseCode !== 'ALREADYEXISTS') throw err;
      });
      this.processedReady = true;
    }
    const result: PollResult = { stored: 0, duplicates: 0, failed: 0 };
    const lock = await client.getMailboxLock(target.mailbox);
    try {
      const uids = ((await client.search({ seen: false }, { uid: true })) || []).sort((a, b) => a - b).slice(0, BATCH);
      if (!uids.length) return result;
      // Sizes first (no command may run inside a fetch iteration), then one message at a time.
      const sizes = new Map<number, number>();
      for await (const m of client.fetch(uids, { uid: true, size: true }, { uid: true })) sizes.set(m.uid, m.size ?? 0);
      const max = this.config.INBOUND_SMTP_MAX_BYTES;
      for (const uid of uids) {
        if (this.stopped) break;
        // An oversized message is stored cut at the cap (raw_truncated) so it is recorded, not refetched forever.
        const over = (sizes.get(uid) ?? 0) > max;
        const msg = await client.fetchOne(String(uid), { uid: true, source: over ? { start: 0, maxLength: max } : true }, { uid: true });
        if (!msg || !msg.source) continue; // expunged meanwhile
        let stored;
        try {
          stored = await this.store.store({ raw: msg.source, source: 'imap', envelopeFrom: null, fullSize: over ? sizes.get(uid) : undefined });
        } catch (err) {
          // Not stored: leave it unseen for the next poll, and let the others through meanwhile.
          result.failed++;
          this.logger.warn({ err, uid }, 'could not store an IMAP message; it stays unseen and is retried next poll');
          continue;
        }
        if (stored.duplicate) result.duplicates++;
        else result.stored++;
        // Only now, with the row committed, may the server forget about it.
        await client.messageFlagsAdd(String(uid), ['\\Seen'], { uid: true });
        if (target.processedMailbox) await client.messageMove(String(uid), target.processedMailbox, { uid: true });
      }
    } finally {
      lock.release();
    }
    return result;
  }

  private async connect(target: ImapTarget): Promise<ImapFlow> {
    if (this.client?.usable) return this.client;
    await this.disconnect();
    const client = new ImapFlow({
      host: target.host,
      port: target.port,
      secure: target.secure,
      auth: { user: target.user, pass: target.pass },
      logger: false,
      disableAutoIdle: true,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 120_000,
    });
    // Without a listener an 'error' event would crash the process; the next poll reconnects.
    client.on('error', (err: Error) => this.logger.warn({ error: err.message }, 'IMAP connection error'));
    client.on('close', () => {
      if (this.client === client) this.client = null;
    });
    await client.connect();
    this.client = client;
    return client;
  }

  private async disconnect(): Promise<void> {
    const client = this.client;
    this.client = null;
    if (!client) return;
    try {
      if (client.usable) await Promise.race([client.logout(), new Promise((r) => setTimeout(r, 2_000).unref())]);
    } catch {
      // already gone
    } finally {
      client.close();
    }
  }
}
