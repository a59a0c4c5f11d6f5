import { DynamicModule, MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { DomainModule } from '@mz/domain';
import { DEFAULT_INBOUND_OPTIONS, INBOUND_OPTIONS, type InboundOptions } from './inbound-options';
import { InboundMetrics } from './inbound.metrics';
import { InboundMessageParser } from './process/inbound-message.parser';
import { MailAuthenticator } from './process/mail-authenticator';
import { ProcessReplyProcessor } from './process/process-reply.processor';
import { ProcessReplyService } from './process/process-reply.service';
import { ReplyLlmClient } from './process/reply-llm.client';
import { LlmCircuit, LlmClient } from '@mz/llm';
import { ReplyRepository } from './process/reply.repository';
import { ImapPoller } from './receive/imap-poller.service';
import { InboundRedrive } from './receive/inbound-redrive.service';
import { InboundStore } from './receive/inbound-store.service';
import { InboundSmtpServer } from './receive/smtp-inbound.server';
import { WebhookController } from './receive/webhook/webhook.controller';
import { WebhookRawBodyMiddleware } from './receive/webhook/webhook-raw-body.middleware';
import { ProviderEventService } from './providers/provider-event.service';
import { ProviderEventStore } from './providers/provider-event.store';
import { ProviderMetrics } from './providers/provider.metrics';
import { ProviderWebhookController } from './providers/provider-webhook.controller';
import { ProviderGuards } from './providers/replay-guard';

/** The provider webhooks (Mailgun, SendGrid, Postmark, SES): read as raw bytes like /webhooks/reply. */
export const PROVIDER_WEBHOOK_ROUTES = [
  'webhooks/mailgun/inbound', 'webhooks/mailgun/inbound/mime', 'webhooks/mailgun/events', 'webhooks/sendgrid/inbound', 'webhooks/sendgrid/events',
  'webhooks/postmark/inbound', 'webhooks/postmark/events', 'webhooks/ses',
] as const;

/**
 * The inbound service (docs/architecture.md §4): the receivers (SMTP on INBOUND_SMTP_PORT, the IMAP poller
 * when INBOUND_IMAP_URL is set, the signed webhook and the mail providers' webhooks on the HTTP port)
 * feeding one store, and the `replies.process` worker that understands each message and applies its
 * effect (and each provider's bounce, complaint and delivery events).
 */
@Module({})
export class InboundModule implements NestModule {
  static register(platform: DynamicModule, options: Partial<InboundOptions> = {}): DynamicModule {
    return {
      module: InboundModule,
      imports: [platform, DomainModule],
      controllers: [WebhookController, ProviderWebhookController],
      providers: [
        { provide: INBOUND_OPTIONS, useValue: { ...DEFAULT_INBOUND_OPTIONS, ...options } },
        InboundMetrics, InboundStore, InboundSmtpServer, ImapPoller, InboundRedrive,
        InboundMessageParser, MailAuthenticator, LlmCircuit, LlmClient, ReplyLlmClient, ReplyRepository, ProcessReplyService, ProcessReplyProcessor,
        ProviderMetrics, ProviderGuards, ProviderEventStore, ProviderEventService,
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(WebhookRawBodyMiddleware).forRoutes(
      { path: 'webhooks/reply', method: RequestMethod.POST },
      ...PROVIDER_WEBHOOK_ROUTES.map((path) => ({ path, method: RequestMethod.POST })),
    );
  }
}
