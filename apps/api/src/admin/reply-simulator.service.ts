import { randomUUID } from 'node:crypto';
import { ConflictException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import MailComposer from 'nodemailer/lib/mail-composer';
import { DataSource } from 'typeorm';
import { type AppConfig, fillTemplate, JobName } from '@mz/contracts';
import { FooterRepository, InboundMessageRepository } from '@mz/db';
import { links, logAdminAction, mailAddressSecret, signedAddress, signUnsubscribeToken } from '@mz/domain';
import { APP_CONFIG, QueueService } from '@mz/platform';
import type { SessionUser } from '../auth/session.service';
import type { SimulateReplyInput } from '@mz/api-schemas';

/**
 * The console's reply simulator runs the real inbound pipeline: it writes the MIME a mail client
 * would send in answer to the letter (In-Reply-To/References = the letter's Message-ID, the
 * subscriber as From, the letter quoted below with its footer — exactly what the inbound parser
 * must strip), stores it as an inbound_message with source 'simulator' and queues
 * `process-reply`. What happens next is the inbound worker's business.
 */
@Injectable()
export class ReplySimulatorService {
  constructor(
    private readonly ds: DataSource,
    private readonly messages: InboundMessageRepository,
    private readonly footers: FooterRepository,
    private readonly queues: QueueService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async simulate(admin: SessionUser, input: SimulateReplyInput): Promise<{ inboundMessageId: string; messageId: string }> {
    const [letter] = await this.ds.query(
      `SELECT l.id, l.subscription_id, l.user_id, l.message_id, l.subject, l.body_text, l.sent_at, l.scheduled_for, u.email, t.name AS topic_name
         FROM letter l JOIN app_user u ON u.id = l.user_id JOIN topic t ON t.id = l.topic_id WHERE l.id = $1`,
      [input.letterId],
    );
    if (!letter) throw new NotFoundException('Letter not found');
    if (!letter.body_text) throw new ConflictException('This letter has not been written yet: nothing to reply to');
    const footer = await this.footers.active();
    const from: string = input.from?.toLowerCase() ?? letter.email;
    const messageId = `<sim.${randomUUID()}@simulator.${this.config.REPLY_DOMAIN}>`;
    const raw = await this.compose({
      from,
      // The letter's Reply-To, as a mail client answers it.
      to: signedAddress('reply', letter.id, this.config.REPLY_DOMAIN, mailAddressSecret(this.config)),
      messageId,
      inReplyTo: letter.message_id,
      subject: letter.subject ?? '',
      text: input.text,
      quoted: this.quotedLetter(letter, footer.textTemplate),
    });
    const id = await this.ds.transaction(async (m) => {
      // Stored the way every receiver stores mail (size cap, one row per Message-ID); the inbound worker parses the rest.
      const stored = await this.messages.store({ raw, source: 'simulator', envelopeFrom: from }, this.config.INBOUND_SMTP_MAX_BYTES, m);
      await logAdminAction(m, admin, {
        action: 'reply.simulate', userId: letter.user_id, letterId: letter.id,
        details: { inboundMessageId: stored.id, fromSubscriber: from === letter.email },
      });
      return stored.id;
    });
    await this.queues.ensureJob(JobName.ProcessReply, { v: 1, inboundMessageId: id }, id);
    return { inboundMessageId: id, messageId };
  }

  /** The letter as the subscriber's mail client quotes it: body and filled-in footer, each line "> ". */
  private quotedLetter(letter: Record<string, unknown>, footerTemplate: string): string {
    const values: Record<string, string> = {
      topic_name: letter.topic_name as string,
      login_link: links.login(this.config.APP_BASE_URL, 'expired-footer-link'),
      unsubscribe_link: links.unsubscribe(this.config.APP_BASE_URL, signUnsubscribeToken(letter.subscription_id as string, this.config.SESSION_SECRET)),
    };
    const footer = fillTemplate(footerTemplate, values);
    const when = ((letter.sent_at ?? letter.scheduled_for) as Date).toUTCString();
    const body = `${String(letter.body_text).trimEnd()}\n\n${footer}`.split('\n').map((l) => (l ? `> ${l}` : '>')).join('\n');
    return `On ${when}, ${this.config.MAIL_FROM} wrote:\n${body}`;
  }

  private compose(p: { from: string; to: string; messageId: string; inReplyTo: string; subject: string; text: string; quoted: string }): Promise<Buffer> {
    const mail = new MailComposer({
      from: p.from,
      to: p.to,
      subject: `Re: ${p.subject}`,
      messageId: p.messageId,
      inReplyTo: p.inReplyTo,
      references: [p.inReplyTo],
      date: new Date(),
      text: `${p.text.replace(/\r\n?/g, '\n').trimEnd()}\n\n${p.quoted}\n`,
      headers: { 'User-Agent': 'Mentor Zero reply simulator' },
    });
    return mail.compile().build();
  }
}
