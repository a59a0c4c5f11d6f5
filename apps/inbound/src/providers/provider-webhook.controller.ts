import { Controller, Headers, HttpCode, HttpException, Inject, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import type { AppConfig, WebhookProvider } from '@mz/contracts';
import { APP_CONFIG, Clock, LOGGER } from '@mz/platform';
import { INBOUND_OPTIONS, type InboundOptions } from '../inbound-options';
import { InboundStore } from '../receive/inbound-store.service';
import { parseWebhookPayload } from '../receive/webhook/webhook-payload';
import { parseFormBody } from './form-body';
import { mailgunEvents, mailgunSignature, type Parsed, postmarkEvents, postmarkInbound, sendgridEvents, sesNotification } from './payloads';
import type { ProviderEventInput } from './provider-event';
import { ProviderEventStore } from './provider-event.store';
import { ProviderMetrics } from './provider.metrics';
import { ProviderGuards } from './replay-guard';
import { SNS_HOST, SnsMessage, SnsVerifier } from './sns';
import { sendgridPublicKey, type Verification, verifyBasicAuth, verifyMailgun, verifySendgrid } from './verify';

type Endpoint = 'inbound' | 'events';
/** The answer: stored (or known already). Providers read only the 2xx. */
interface Stored { accepted: true; duplicate: boolean }

/** A refusal, counted under its outcome label and answered with its status (never a stack or a secret). */
class Refusal extends HttpException {
  constructor(readonly code: 400 | 401 | 413 | 415 | 429 | 502, readonly outcome: string, message: string) {
    super({ statusCode: code, message }, code);
  }
}

const unverified = (v: Extract<Verification, { ok: false }>) =>
  new Refusal(401, `unverified_${v.reason}`, v.reason === 'stale' || v.reason === 'future' ? 'signature timestamp outside the allowed window' : v.reason === 'replayed' ? 'request already used' : 'unverified request');

/** Mailgun tokens and SNS message ids are remembered longer than their signatures stay good. */
const TOKEN_TTL_SECONDS = 24 * 3600;

/**
 * Native webhooks of the mail providers (docs/architecture.md §8): replies in, bounce/complaint/
 * delivery events back. Each request is rate-limited per client IP, read as raw capped bytes,
 * verified the way its provider signs — before anything else reads it — then stored (a reply in
 * `inbound_message` through InboundStore, events in `provider_event`) and queued; the work
 * happens in the `replies.process` workers. 200 once stored, duplicates included; 401 for
 * anything unverified, stale or replayed (nothing stored); 400 malformed; 413 too large; 429 over
 * the limit.
 */
@Controller('webhooks')
export class ProviderWebhookController {
  private readonly clock: Clock;
  private readonly sns: SnsVerifier;
  private readonly sendgridKey;
  private readonly logger: Logger;

  constructor(
    private readonly store: InboundStore,
    private readonly events: ProviderEventStore,
    private readonly guards: ProviderGuards,
    private readonly metrics: ProviderMetrics,
    clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(INBOUND_OPTIONS) private readonly options: InboundOptions,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.clock = options.clock ?? clock;
    this.logger = logger.child({ component: 'provider-webhooks' });
    this.sendgridKey = sendgridPublicKey(config.SENDGRID_WEBHOOK_PUBLIC_KEY);
    if (config.SENDGRID_WEBHOOK_PUBLIC_KEY && !this.sendgridKey) this.logger.warn('SENDGRID_WEBHOOK_PUBLIC_KEY is not an EC public key; SendGrid events will be refused');
    this.sns = new SnsVerifier(
      { hostPattern: options.snsHostPattern ?? SNS_HOST, ca: options.snsCa, maxAgeSeconds: options.snsMaxAgeSeconds, certCacheMs: options.snsCertCacheMs, timeoutMs: 10_000 },
      () => this.clock.now().getTime(),
    );
  }

  // ------------------------------------------------------------------ Mailgun

  // Mailgun posts the raw MIME (`body-mime`) only to a forward URL that ends in "mime": the
  // second path is the same endpoint under such a name.
  @Post(['mailgun/inbound', 'mailgun/inbound/mime'])
  @HttpCode(200)
  mailgunInbound(@Req() req: Request, @Res({ passthrough: true }) res: Response) {
    return this.handle('mailgun', 'inbound', req, res, async (body) => {
      const form = parseFormBody(req.headers['content-type'], body);
      if (!form.ok) throw new Refusal(form.status, form.status === 415 ? 'unsupported' : 'malformed', form.error);
      const field = (n: string) => form.fields.get(n)?.toString('utf8');
      const signature = { timestamp: field('timestamp'), token: field('token'), signature: field('signature') };
      return this.mailgunVerified(signature, async () => {
        const raw = form.fields.get('body-mime');
        if (!raw?.length) throw new Refusal(400, 'malformed', 'expected the "body-mime" field: forward the route to a URL ending in "mime"');
        return this.storeReply('mailgun', raw);
      });
    });
  }

  @Post('mailgun/events')
  @HttpCode(200)
  mailgunEventsEndpoint(@Req() req: Request, @Res({ passthrough: true }) res: Response) {
    return this.handle('mailgun', 'events', req, res, async (body) => {
      const json = parseJson(body);
      const sig = mailgunSignature(json);
      if (!sig.ok) throw unverified({ ok: false, reason: 'missing' });
      return this.mailgunVerified(sig.value, () => this.storeEvents(mailgunEvents(json)));
    });
  }

  /** Signature and window first, then the token's first use; a request that could not be stored gives its token back. */
  private async mailgunVerified(s: { timestamp?: string; token?: string; signature?: string }, then: () => Promise<Stored>): Promise<Stored> {
    const v = verifyMailgun(s, this.config.MAILGUN_WEBHOOK_SIGNING_KEY, this.nowSeconds(), this.options.webhookToleranceSeconds);
    if (!v.ok) throw unverified(v);
    const token = s.token as string;
    if (!(await this.guards.claim('mailgun', token, TOKEN_TTL_SECONDS))) throw unverified({ ok: false, reason: 'replayed' });
    try {
      return await then();
    } catch (err) {
      if (!(err instanceof Refusal)) await this.guards.release('mailgun', token);
      throw err;
    }
  }

  // ------------------------------------------------------------------ SendGrid

  @Post('sendgrid/inbound')
  @HttpCode(200)
  sendgridInbound(@Req() req: Request, @Res({ passthrough: true }) res: Response, @Headers('authorization') authorization: string | undefined) {
    return this.handle('sendgrid', 'inbound', req, res, async (body) => {
      const v = verifyBasicAuth(authorization, this.config.SENDGRID_INBOUND_USER, this.config.SENDGRID_INBOUND_PASSWORD);
      if (!v.ok) throw unverified(v);
      const form = parseFormBody(req.headers['content-type'], body);
      if (!form.ok) throw new Refusal(form.status, form.status === 415 ? 'unsupported' : 'malformed', form.error);
      const raw = form.fields.get('email');
      if (!raw?.length) throw new Refusal(400, 'malformed', 'expected the "email" field: enable "POST the raw, full MIME message" in the Inbound Parse settings');
      return this.storeReply('sendgrid', raw);
    });
  }

  @Post('sendgrid/events')
  @HttpCode(200)
  sendgridEventsEndpoint(
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
    @Headers('x-twilio-email-event-webhook-signature') signature: string | undefined,
    @Headers('x-twilio-email-event-webhook-timestamp') timestamp: string | undefined,
  ) {
    return this.handle('sendgrid', 'events', req, res, async (body) => {
      const v = verifySendgrid(signature, timestamp, body, this.sendgridKey, this.nowSeconds(), this.options.webhookToleranceSeconds);
      if (!v.ok) throw unverified(v);
      // The signature is over the timestamp: a copy of a signed request is good only once.
      if (!(await this.guards.claim('sendgrid', signature as string, TOKEN_TTL_SECONDS))) throw unverified({ ok: false, reason: 'replayed' });
      try {
        return await this.storeEvents(sendgridEvents(parseJson(body)));
      } catch (err) {
        if (!(err instanceof Refusal)) await this.guards.release('sendgrid', signature as string);
        throw err;
      }
    });
  }

  // ------------------------------------------------------------------ Postmark

  @Post('postmark/inbound')
  @HttpCode(200)
  postmarkInboundEndpoint(@Req() req: Request, @Res({ passthrough: true }) res: Response, @Headers('authorization') authorization: string | undefined) {
    return this.handle('postmark', 'inbound', req, res, async (body) => {
      this.postmarkAuth(authorization);
      const raw = postmarkInbound(parseJson(body));
      if (!raw.ok) throw new Refusal(400, 'malformed', raw.error);
      return this.storeReply('postmark', raw.value);
    });
  }

  @Post('postmark/events')
  @HttpCode(200)
  postmarkEventsEndpoint(@Req() req: Request, @Res({ passthrough: true }) res: Response, @Headers('authorization') authorization: string | undefined) {
    return this.handle('postmark', 'events', req, res, async (body) => {
      this.postmarkAuth(authorization);
      return this.storeEvents(postmarkEvents(parseJson(body)));
    });
  }

  private postmarkAuth(authorization: string | undefined): void {
    const v = verifyBasicAuth(authorization, this.config.POSTMARK_WEBHOOK_USER, this.config.POSTMARK_WEBHOOK_PASSWORD);
    if (!v.ok) throw unverified(v);
  }

  // ------------------------------------------------------------------ Amazon SES (SNS)

  @Post('ses')
  @HttpCode(200)
  ses(@Req() req: Request, @Res({ passthrough: true }) res: Response) {
    return this.handle('ses', 'events', req, res, async (body) => {
      const parsed = SnsMessage.safeParse(parseJson(body));
      if (!parsed.success) throw new Refusal(400, 'malformed', 'expected an SNS message (Type, MessageId, TopicArn, Message, Timestamp, Signature, SigningCertURL)');
      const m = parsed.data;
      // The allow-list first: nothing is fetched for a topic we do not expect.
      if (!this.config.SES_SNS_TOPIC_ARNS.includes(m.TopicArn)) throw unverified({ ok: false, reason: 'topic' });
      const v = await this.sns.verify(m);
      if (!v.ok) throw unverified(v);
      if (!(await this.guards.claim('ses', m.MessageId, TOKEN_TTL_SECONDS))) throw unverified({ ok: false, reason: 'replayed' });
      try {
        if (m.Type === 'SubscriptionConfirmation') {
          await this.sns.confirm(m).then((ok) => {
            if (!ok) throw new Refusal(400, 'malformed', 'SubscribeURL is not an https URL on an SNS host');
          }, (err: Error) => {
            this.logger.warn({ topicArn: m.TopicArn, error: err.message }, 'SNS subscription confirmation failed');
            throw new Refusal(502, 'error', 'could not confirm the subscription');
          });
          this.logger.info({ topicArn: m.TopicArn }, 'SNS subscription confirmed');
          return { accepted: true, duplicate: false, outcome: 'confirmed' };
        }
        if (m.Type === 'UnsubscribeConfirmation') {
          this.logger.warn({ topicArn: m.TopicArn }, 'SNS says this endpoint was unsubscribed from the topic');
          return { accepted: true, duplicate: false };
        }
        const n = sesNotification(m.Message, m.MessageId);
        if (!n.ok) throw new Refusal(400, 'malformed', n.error);
        if (n.value.kind === 'received') {
          const payload = parseWebhookPayload('application/json', Buffer.from(m.Message, 'utf8'), this.config.INBOUND_SMTP_MAX_BYTES);
          if (!payload.ok) throw new Refusal(payload.status === 413 ? 413 : 400, payload.status === 413 ? 'too_large' : 'malformed', payload.error);
          return await this.storeReply('ses', payload.raw);
        }
        return await this.storeEvents({ ok: true, value: n.value.events });
      } catch (err) {
        // A request that could not be stored may come again (SNS retries): give its id back.
        if (!(err instanceof Refusal) || err.code === 502) await this.guards.release('ses', m.MessageId);
        throw err;
      }
    });
  }

  // ------------------------------------------------------------------ shared

  /**
   * The frame of every endpoint: the per-IP limit, the raw body (the middleware read it, capped),
   * the handler, and one count per request under its outcome.
   */
  private async handle(provider: WebhookProvider, endpoint: Endpoint, req: Request, res: Response, handler: (body: Buffer) => Promise<Stored & { outcome?: string }>) {
    const count = (outcome: string) => this.metrics.requests.inc({ provider, endpoint, outcome });
    try {
      const wait = await this.guards.limit(provider, req.ip ?? 'unknown');
      if (wait !== null) {
        res.setHeader('Retry-After', String(wait));
        throw new Refusal(429, 'rate_limited', 'too many requests');
      }
      const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const { outcome, ...answer } = await handler(body);
      count(outcome ?? (answer.duplicate ? 'duplicate' : 'accepted'));
      return answer;
    } catch (err) {
      if (err instanceof Refusal) {
        count(err.outcome);
        throw err;
      }
      count('error');
      throw err;
    }
  }

  private async storeReply(source: WebhookProvider, raw: Buffer): Promise<Stored> {
    if (raw.length > this.config.INBOUND_SMTP_MAX_BYTES) throw new Refusal(413, 'too_large', `message exceeds ${this.config.INBOUND_SMTP_MAX_BYTES} bytes`);
    const r = await this.store.store({ raw, source });
    return { accepted: true, duplicate: r.duplicate };
  }

  private async storeEvents(parsed: Parsed<ProviderEventInput[]>): Promise<Stored> {
    if (!parsed.ok) throw new Refusal(400, 'malformed', parsed.error);
    const r = await this.events.store(parsed.value);
    return { accepted: true, duplicate: r.stored === 0 };
  }

  private nowSeconds(): number {
    return Math.floor(this.clock.now().getTime() / 1000);
  }
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new Refusal(400, 'malformed', 'body is not valid JSON');
  }
}
