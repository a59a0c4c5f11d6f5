import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { parseConfig } from '@mz/contracts';
import { MetricsService } from '@mz/platform';
import { SmtpTransport } from './smtp.transport';

const pem = () => generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const logger = () => ({ warn: jest.fn() }) as unknown as import('pino').Logger & { warn: jest.Mock };
const PROD = { NODE_ENV: 'production', INBOUND_TLS: 'off', WEBHOOK_SECRET: randomBytes(32).toString('hex'), SESSION_SECRET: randomBytes(32).toString('hex') };

describe('SmtpTransport DKIM', () => {
  it('signs with the current selector when configured, silently', () => {
    const log = logger();
    const t = new SmtpTransport(parseConfig({ ...PROD, DKIM_DOMAIN: 'mentor.example', DKIM_SELECTOR: 'mz1', DKIM_PRIVATE_KEY: pem() }), log, new MetricsService('mailer'));
    expect(t.dkim).toEqual({ domain: 'mentor.example', selector: 'mz1' });
    expect(log.warn).not.toHaveBeenCalled();
    t.onApplicationShutdown();
  });

  it('warns at start in production when unsigned; a broken key stops it', () => {
    const log = logger();
    const t = new SmtpTransport(parseConfig(PROD), log, new MetricsService('mailer'));
    expect(t.dkim).toBeNull();
    expect(log.warn).toHaveBeenCalledWith(expect.stringMatching(/DKIM is not configured/));
    t.onApplicationShutdown();
    const quiet = logger();
    new SmtpTransport(parseConfig({}), quiet, new MetricsService('mailer')).onApplicationShutdown();
    expect(quiet.warn).not.toHaveBeenCalled();
    expect(() => new SmtpTransport(parseConfig({ DKIM_DOMAIN: 'mentor.example', DKIM_SELECTOR: 'mz1', DKIM_PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----' }), logger(), new MetricsService('mailer')))
      .toThrow(/DKIM_PRIVATE_KEY: not a private key/);
  });
});
