/**
 * The mailer's decisions with its repositories mocked (no Postgres, no SMTP): what a refused
 * claim becomes, when a failure is retried or final, when an address is suppressed, and that
 * nothing is sent without a claim. The same paths against real Postgres and SMTP are in
 * send-letter.int-spec.ts.
 */
import { UnrecoverableError } from 'bullmq';
import pino from 'pino';
import type { AppConfig } from '@mz/contracts';
import type { FooterRepository, LetterRepository, SendClaimRow } from '@mz/db';
import { Clock, MetricsService, RetryLaterError } from '@mz/platform';
import { MailerMetrics } from './mailer.metrics';
import { PAUSE_RECHECK_MS, SendLetterService } from './send-letter.service';
import type { SmtpTransport } from './smtp.transport';

const NOW = new Date('2026-12-04T08:00:00Z');
const config = {
  LEASE_MS: 30_000, RETRY_DELAY_SCALE: 1, SESSION_SECRET: 'a'.repeat(64), MAIL_ADDRESS_SECRET: 'b'.repeat(64),
  REPLY_DOMAIN: 'reply.example', MAIL_FROM: 'Mentor Zero <letters@example.com>', APP_BASE_URL: 'https://mz.example',
} as AppConfig;

function row(over: Partial<SendClaimRow> = {}): SendClaimRow {
  return {
    id: '11111111-1111-4111-8111-111111111111', subscription_id: '22222222-2222-4222-8222-222222222222', user_id: '33333333-3333-4333-8333-333333333333',
    kind: 'scheduled', scheduled_for: new Date(NOW.getTime() - 1000), message_id: '<mz.1@reply.example>', subject: 'On patience',
    body_text: 'Dear reader,\n\nPatience.', body_html: '<p>Dear reader,</p><p>Patience.</p>', email: 'reader@example.org',
    topic_code: 'stoic', topic_name: 'Stoicism', language: 'en', refusal: null, claimed_attempts: 1, quote_text: null, quote_author: null, quote_contended: false,
    ...over,
  };
}

function setup(claim: SendClaimRow | null, smtp: () => Promise<{ response: string }> = async () => ({ response: '250 OK queued' })) {
  const letters = {
    claimForSend: jest.fn(async () => claim),
    settleRefused: jest.fn(async () => true),
    repickQuote: jest.fn(async () => null),
    markSent: jest.fn(async () => undefined),
    markSendFailure: jest.fn(async () => ({ suppressed: false })),
  };
  const footers = { active: jest.fn(async () => ({ textTemplate: 'Unsubscribe: {{unsubscribe_link}}', htmlTemplate: '<a href="{{unsubscribe_link}}">Unsubscribe</a>', isDefault: false })) };
  const transport = { send: jest.fn(smtp) };
  const clock = { now: () => NOW } as Clock;
  const metrics = new MailerMetrics(new MetricsService('mailer-spec'));
  const service = new SendLetterService(
    letters as unknown as LetterRepository, footers as unknown as FooterRepository, config, clock,
    transport as unknown as SmtpTransport, metrics, pino({ level: 'silent' }),
  );
  return { service, letters, transport, metrics };
}

const smtpError = (responseCode: number, response: string) => Object.assign(new Error(response), { responseCode, response, code: 'EENVELOPE' });

describe('SendLetterService decisions (repositories mocked)', () => {
  it('sends a claimed letter once and records it as sent', async () => {
    const { service, letters, transport } = setup(row());
    await expect(service.send(row().id)).resolves.toEqual({ outcome: 'sent', attempts: 1 });
    expect(transport.send).toHaveBeenCalledTimes(1);
    expect(transport.send.mock.calls[0]).toEqual([expect.objectContaining({ to: 'reader@example.org' })]);
    expect(letters.markSent).toHaveBeenCalledWith(
      { letterId: row().id, userId: row().user_id, subscriptionId: row().subscription_id }, NOW, '250 OK queued', expect.any(Number), expect.objectContaining({ attempts: 1 }),
    );
    expect(letters.markSendFailure).not.toHaveBeenCalled();
  });

  it('fills the footer for the letter\'s language: the built-in translation, else the admin\'s English footer', async () => {
    const footerOf = async (language: string) => {
      const { service, transport } = setup(row({ language }));
      await service.send(row().id);
      return (transport.send.mock.calls[0] as unknown as [{ text: string; html: string }])[0];
    };
    const de = await footerOf('de-AT');
    expect(de.text).toContain('Du erhältst diese E-Mail, weil du Stoicism bei Mentor Zero abonniert hast.');
    expect(de.text).toMatch(/Stoicism abbestellen: https:\/\/mz\.example\//);
    expect(de.html).toContain('Deine Einstellungen</a>');
    expect((await footerOf('fr')).text).toContain('Se désabonner de Stoicism: https://mz.example/');
    expect((await footerOf('es')).text).toContain('Darte de baja de Stoicism: https://mz.example/');
    // Not translated: the admin's footer, which is English.
    for (const language of ['en', 'it', 'ja']) {
      const mail = await footerOf(language);
      expect(mail.text).toMatch(/Unsubscribe: https:\/\/mz\.example\//);
      expect(mail.text).not.toContain('abbestellen');
    }
  });

  it('nothing claimable: nothing sent, nothing written', async () => {
    const { service, letters, transport } = setup(null);
    await expect(service.send(row().id)).resolves.toEqual({ outcome: 'not_claimable' });
    expect(transport.send).not.toHaveBeenCalled();
    expect(letters.settleRefused).not.toHaveBeenCalled();
  });

  it('sending paused: deferred by the re-check interval, the row untouched', async () => {
    const { service, letters, transport } = setup(row({ refusal: 'sending_paused', claimed_attempts: null }));
    await expect(service.send(row().id)).resolves.toEqual({ outcome: 'deferred', reason: 'sending_paused', until: new Date(NOW.getTime() + PAUSE_RECHECK_MS) });
    expect(letters.settleRefused).not.toHaveBeenCalled();
    expect(transport.send).not.toHaveBeenCalled();
  });

  it('not due yet: deferred to its slot', async () => {
    const slot = new Date(NOW.getTime() + 60_000);
    const { service, transport } = setup(row({ refusal: 'not_due', scheduled_for: slot, claimed_attempts: null }));
    await expect(service.send(row().id)).resolves.toEqual({ outcome: 'deferred', reason: 'not_due', until: slot });
    expect(transport.send).not.toHaveBeenCalled();
  });

  it('a suppressed address: skipped for good, counted', async () => {
    const { service, letters, transport, metrics } = setup(row({ refusal: 'suppressed', claimed_attempts: null }));
    const before = (await metrics.skipped.get()).values.find((v) => v.labels.reason === 'suppressed')?.value ?? 0;
    await expect(service.send(row().id)).resolves.toEqual({ outcome: 'skipped', reason: 'suppressed' });
    expect(letters.settleRefused).toHaveBeenCalledWith(row().id, { status: 'skipped', reason: 'suppressed', event: 'LETTER_SKIPPED', metadata: { reason: 'suppressed' } });
    expect((await metrics.skipped.get()).values.find((v) => v.labels.reason === 'suppressed')?.value).toBe(before + 1);
    expect(transport.send).not.toHaveBeenCalled();
  });

  it.each(['user_inactive', 'subscription_disabled', 'subscription_paused'] as const)('%s: cancelled at the send stage', async (refusal) => {
    const { service, letters } = setup(row({ refusal, claimed_attempts: null }));
    await expect(service.send(row().id)).resolves.toEqual({ outcome: 'cancelled', reason: refusal });
    expect(letters.settleRefused).toHaveBeenCalledWith(row().id, { status: 'cancelled', reason: refusal, event: 'LETTER_CANCELLED', metadata: { reason: refusal, stage: 'send' } });
  });

  it('a refusal that lost the race to another job is not_claimable', async () => {
    const { service, letters } = setup(row({ refusal: 'user_inactive', claimed_attempts: null }));
    letters.settleRefused.mockResolvedValueOnce(false);
    await expect(service.send(row().id)).resolves.toEqual({ outcome: 'not_claimable' });
  });

  it('a temporary SMTP failure: retrying at the backoff, the job retried later, no suppression', async () => {
    const { service, letters } = setup(row(), async () => { throw smtpError(451, '451 4.3.0 try again later'); });
    const err = await service.send(row().id).catch((e) => e);
    expect(err).toBeInstanceOf(RetryLaterError);
    const [input] = letters.markSendFailure.mock.calls[0] as unknown as [Record<string, unknown>];
    expect(input).toMatchObject({ letterId: row().id, attempts: 1, suppressAddress: null });
    expect((input.retryAt as Date).getTime()).toBeGreaterThan(NOW.getTime());
    expect(letters.markSent).not.toHaveBeenCalled();
  });

  it('a hard bounce: failed for good, the address suppressed, never retried', async () => {
    const { service, letters } = setup(row(), async () => { throw smtpError(550, '550 5.1.1 <reader@example.org>: mailbox unknown'); });
    await expect(service.send(row().id)).rejects.toBeInstanceOf(UnrecoverableError);
    expect(letters.markSendFailure).toHaveBeenCalledWith(expect.objectContaining({ failureClass: 'permanent', retryAt: null, suppressAddress: 'reader@example.org' }));
    // The address is masked in what is stored and logged.
    const [input] = letters.markSendFailure.mock.calls[0] as unknown as [{ summary: string }];
    expect(input.summary).not.toContain('reader@example.org');
  });

  it('a policy rejection (550 without a dead-address code) fails the letter but keeps the address', async () => {
    const { service, letters } = setup(row(), async () => { throw smtpError(550, '550 rejected by policy: spam score'); });
    await expect(service.send(row().id)).rejects.toBeInstanceOf(UnrecoverableError);
    expect(letters.markSendFailure).toHaveBeenCalledWith(expect.objectContaining({ retryAt: null, suppressAddress: null }));
  });
});
