import { ConfigError, parseConfig, parseDuration } from './config';

describe('config schema', () => {
  it('gives working local defaults for an empty environment', () => {
    const c = parseConfig({});
    expect(c.DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5432/mentor');
    expect(c.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(c.COMPOSE_LEAD).toBe(15 * 60_000);
    expect(c.CATCH_UP_WINDOW).toBe(6 * 3_600_000);
    expect(c.LLM_BASE_URL).toBeUndefined();
    expect(c.QUEUE_PREFIX).toBe('mz');
  });

  it('names every bad variable at once', () => {
    let error: unknown;
    try {
      parseConfig({ DATABASE_URL: 'mysql://x', SCHEDULER_TICK_MS: 'soon', COMPOSE_LEAD: '15 minutes', DEFAULT_ADMIN_EMAILS: 'a@b.co, nope' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    for (const name of ['DATABASE_URL', 'SCHEDULER_TICK_MS', 'COMPOSE_LEAD', 'DEFAULT_ADMIN_EMAILS']) expect(message).toContain(name);
  });

  it('refuses the development secrets in production', () => {
    expect(() => parseConfig({ NODE_ENV: 'production' })).toThrow(/WEBHOOK_SECRET[\s\S]*SESSION_SECRET|SESSION_SECRET[\s\S]*WEBHOOK_SECRET/);
    const ok = parseConfig({ NODE_ENV: 'production', WEBHOOK_SECRET: 'w'.repeat(32), SESSION_SECRET: 's'.repeat(40) });
    expect(ok.NODE_ENV).toBe('production');
  });

  it('parses durations and lists', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('1500')).toBe(1500);
    expect(parseDuration('1.5h')).toBeUndefined();
    expect(parseConfig({ DEFAULT_ADMIN_EMAILS: ' Ada@Example.org , b@example.org' }).DEFAULT_ADMIN_EMAILS).toEqual(['ada@example.org', 'b@example.org']);
  });

  it('treats an empty optional variable as unset', () => {
    expect(parseConfig({ LLM_BASE_URL: '', SMTP_URL: '' }).SMTP_URL).toBe('smtp://127.0.0.1:1025');
  });

  it('takes the mail-trust settings: DKIM in complete sets, a long address secret, trusted authserv-ids lower-cased', () => {
    const c = parseConfig({ DKIM_DOMAIN: 'Mentor.Example', DKIM_SELECTOR: 'mz1', DKIM_PRIVATE_KEY: '/run/secrets/dkim.pem', INBOUND_TRUSTED_AUTHSERV_IDS: ' MX.Google.com, amazonses.com ' });
    expect(c.DKIM_DOMAIN).toBe('mentor.example');
    expect(c.INBOUND_TRUSTED_AUTHSERV_IDS).toEqual(['mx.google.com', 'amazonses.com']);
    expect(parseConfig({}).INBOUND_TRUSTED_AUTHSERV_IDS).toEqual([]);
    expect(parseConfig({}).DKIM_DOMAIN).toBeUndefined();
    expect(() => parseConfig({ DKIM_DOMAIN: 'mentor.example' })).toThrow(/DKIM_SELECTOR[\s\S]*DKIM_PRIVATE_KEY/);
    expect(() => parseConfig({ DKIM_DOMAIN: 'mentor.example', DKIM_SELECTOR: 'a', DKIM_PRIVATE_KEY: 'k', DKIM_NEXT_SELECTOR: 'b' })).toThrow(/DKIM_NEXT_PRIVATE_KEY/);
    expect(() => parseConfig({ DKIM_DOMAIN: 'mentor.example', DKIM_SELECTOR: 'a', DKIM_PRIVATE_KEY: 'k', DKIM_NEXT_SELECTOR: 'a', DKIM_NEXT_PRIVATE_KEY: 'k2' })).toThrow(/DKIM_NEXT_SELECTOR: must differ/);
    expect(() => parseConfig({ DKIM_SELECTOR: 'bad selector' })).toThrow(/DKIM_SELECTOR/);
    expect(() => parseConfig({ MAIL_ADDRESS_SECRET: 'short' })).toThrow(/MAIL_ADDRESS_SECRET/);
  });
});
