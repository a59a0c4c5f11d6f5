import express from 'express';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, contactEmail, parseConfig, parseDuration, PUBLIC_SECRET_VALUES, SECRET_VARIABLES, weakSecretReason } from './config';

describe('config schema', () => {
  it('CONTACT_EMAIL: the footer\'s address, else the one inside MAIL_FROM; a bad value is refused', () => {
    expect(contactEmail(parseConfig({}))).toBe('mentor@mentor.localhost');
    expect(contactEmail(parseConfig({ MAIL_FROM: 'letters@example.org' }))).toBe('letters@example.org');
    expect(contactEmail(parseConfig({ MAIL_FROM: '"Mentor, Zero" <hello@example.org>', CONTACT_EMAIL: '' }))).toBe('hello@example.org');
    expect(contactEmail(parseConfig({ MAIL_FROM: 'Mentor Zero <mentor@example.org>', CONTACT_EMAIL: 'help@example.org' }))).toBe('help@example.org');
    expect(contactEmail(parseConfig({ MAIL_FROM: 'no address here' }))).toBeNull();
    expect(() => parseConfig({ CONTACT_EMAIL: 'not-an-address' })).toThrow(/CONTACT_EMAIL/);
  });

  it('gives working local defaults for an empty environment', () => {
    const c = parseConfig({});
    expect(c.DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5432/mentor');
    expect(c.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(c.COMPOSE_LEAD).toBe(15 * 60_000);
    expect(c.CATCH_UP_WINDOW).toBe(6 * 3_600_000);
    expect(c.LLM_BASE_URL).toBeUndefined();
    expect(c.QUEUE_PREFIX).toBe('mz');
  });

  it('OTEL_*: tracing off by default; endpoints must be http(s) URLs, headers key=value pairs, the ratio 0..1', () => {
    const off = parseConfig({});
    expect(off.OTEL_EXPORTER_OTLP_ENDPOINT).toBeUndefined();
    expect(off.OTEL_TRACES_SAMPLER_ARG).toBe(1);
    const on = parseConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector:4318', OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=abc, x-team=mz', OTEL_TRACES_SAMPLER_ARG: '0.25' });
    expect(on.OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://otel-collector:4318');
    expect(on.OTEL_TRACES_SAMPLER_ARG).toBe(0.25);
    expect(parseConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: '' }).OTEL_EXPORTER_OTLP_ENDPOINT).toBeUndefined();
    const bad = () => parseConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'otel-collector:4317', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'grpc://x', OTEL_EXPORTER_OTLP_HEADERS: 'just-a-key', OTEL_TRACES_SAMPLER_ARG: '2' });
    expect(bad).toThrow(ConfigError);
    try {
      bad();
    } catch (err) {
      for (const v of ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_EXPORTER_OTLP_HEADERS', 'OTEL_TRACES_SAMPLER_ARG']) expect((err as Error).message).toContain(v);
    }
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
    const ok = parseConfig({ NODE_ENV: 'production', INBOUND_TLS: 'off', WEBHOOK_SECRET: strong(), SESSION_SECRET: strong() });
    expect(ok.NODE_ENV).toBe('production');
  });

  it('TRUST_PROXY: off by default, a hop count or proxy addresses/CIDRs — never "true"', () => {
    expect(parseConfig({}).TRUST_PROXY).toBe(false);
    expect(parseConfig({ TRUST_PROXY: '1' }).TRUST_PROXY).toBe(1);
    expect(parseConfig({ TRUST_PROXY: ' 10.0.0.0/8, fd00::/8 ,loopback' }).TRUST_PROXY).toEqual(['10.0.0.0/8', 'fd00::/8', 'loopback']);
    for (const bad of ['true', 'everyone', '10.0.0.0/8, example.com', '99']) expect(() => parseConfig({ TRUST_PROXY: bad })).toThrow(/TRUST_PROXY/);
  });

  it('TRUST_PROXY: refuses, naming the variable, every address Express would throw on at start', () => {
    for (const bad of ['300.1.1.1', '10.0.0.0/33', '10.0.0.0/99', 'fd00::/129', ':::', '1:2', '10.0.0.1/8/2', '10.0.0.0/', '10.0.0.0/-1']) {
      expect(() => parseConfig({ TRUST_PROXY: bad })).toThrow(/TRUST_PROXY/);
      // ...and these are exactly what Express refuses
      expect(() => express().set('trust proxy', [bad])).toThrow();
    }
    for (const good of ['10.0.0.0/8', '192.168.1.7', 'fd00::/8', '::1', '::ffff:10.0.0.1', '2001:db8::/32, 127.0.0.1/32, uniquelocal']) {
      const parsed = parseConfig({ TRUST_PROXY: good }).TRUST_PROXY;
      expect(() => express().set('trust proxy', parsed)).not.toThrow();
    }
  });

  it('production needs the MX certificate pair, or INBOUND_TLS=off on purpose', () => {
    const base = { NODE_ENV: 'production', WEBHOOK_SECRET: strong(), SESSION_SECRET: strong() };
    expect(() => parseConfig(base)).toThrow(/INBOUND_TLS_CERT_FILE: must be set in production/);
    expect(() => parseConfig({ ...base, INBOUND_TLS_CERT_FILE: '/tls/tls.crt' })).toThrow(/INBOUND_TLS_KEY_FILE: INBOUND_TLS_CERT_FILE and INBOUND_TLS_KEY_FILE go together/);
    expect(parseConfig({ ...base, INBOUND_TLS_CERT_FILE: '/tls/tls.crt', INBOUND_TLS_KEY_FILE: '/tls/tls.key' }).INBOUND_TLS_CERT_FILE).toBe('/tls/tls.crt');
    expect(() => parseConfig({ ...base, INBOUND_TLS: 'off', INBOUND_TLS_CERT_FILE: '/a', INBOUND_TLS_KEY_FILE: '/b' })).toThrow(/INBOUND_TLS: is off but/);
    expect(parseConfig({ ...base, INBOUND_TLS: 'off' }).INBOUND_TLS).toBe('off');
    // The other services share the configuration but never serve the MX.
    for (const app of ['api', 'scheduler', 'composer', 'mailer', 'migrate']) expect(parseConfig({ ...base, APP: app }).APP).toBe(app);
    expect(() => parseConfig({ ...base, APP: 'inbound' })).toThrow(/INBOUND_TLS_CERT_FILE: must be set in production/);
  });

  describe('weak secrets in production', () => {
    const production = (secret: string) => () => parseConfig({ NODE_ENV: 'production', INBOUND_TLS: 'off', WEBHOOK_SECRET: strong(), SESSION_SECRET: secret });

    it('refuses short, repeated and placeholder-worded secrets, naming the variable', () => {
      expect(production('a'.repeat(31))).toThrow(/SESSION_SECRET: must be at least 32 characters/);
      expect(production('s'.repeat(40))).toThrow(/SESSION_SECRET: looks like a placeholder/);
      expect(production(`please-change-me-${strong()}`)).toThrow(/SESSION_SECRET: looks like a placeholder/);
      expect(() => parseConfig({ NODE_ENV: 'production', INBOUND_TLS: 'off', WEBHOOK_SECRET: 'short', SESSION_SECRET: strong() })).toThrow(/WEBHOOK_SECRET/);
      expect(production(strong())).not.toThrow();
      expect(() => parseConfig({ NODE_ENV: 'production', INBOUND_TLS: 'off', WEBHOOK_SECRET: strong(), SESSION_SECRET: strong(), MAIL_ADDRESS_SECRET: `${'ab'.repeat(8)}-change-me-${'x'.repeat(8)}` }))
        .toThrow(/MAIL_ADDRESS_SECRET: looks like a placeholder/);
      // development keeps its defaults
      expect(() => parseConfig({})).not.toThrow();
    });

    it('refuses every secret value written anywhere in the repository (compose, k8s, docs, examples)', () => {
      const found = secretsWrittenInRepository();
      expect(found.length).toBeGreaterThanOrEqual(4);
      for (const { file, name, value } of found) {
        expect([file, name, value, weakSecretReason(value)]).toEqual([file, name, value, expect.any(String)]);
        expect([file, name, PUBLIC_SECRET_VALUES.has(value) || weakSecretReason(value) !== null]).toEqual([file, name, true]);
      }
    });
  });

  it('refuses the RETRY_DELAY_SCALE test knob in production, and only there', () => {
    const secrets = { INBOUND_TLS: 'off', WEBHOOK_SECRET: strong(), SESSION_SECRET: strong() };
    for (const scale of ['0', '0.01', '0.999']) {
      expect(() => parseConfig({ NODE_ENV: 'production', ...secrets, RETRY_DELAY_SCALE: scale })).toThrow(/RETRY_DELAY_SCALE/);
    }
    expect(parseConfig({ NODE_ENV: 'production', ...secrets, RETRY_DELAY_SCALE: '1' }).RETRY_DELAY_SCALE).toBe(1);
    expect(parseConfig({ NODE_ENV: 'test', RETRY_DELAY_SCALE: '0' }).RETRY_DELAY_SCALE).toBe(0);
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

  describe('Redis Cluster', () => {
    it('keeps the single-node default when no cluster is named', () => {
      const c = parseConfig({});
      expect(c.REDIS_CLUSTER_NODES).toEqual([]);
      expect(c.QUEUE_PREFIX).toBe('mz');
    });

    it('parses the seeds and defaults the prefix to the {mz} hash tag', () => {
      const c = parseConfig({ REDIS_CLUSTER_NODES: ' 10.0.0.1:7000, redis-1.example.net:6379 ,[::1]:7001' });
      expect(c.REDIS_CLUSTER_NODES).toEqual([{ host: '10.0.0.1', port: 7000 }, { host: 'redis-1.example.net', port: 6379 }, { host: '::1', port: 7001 }]);
      expect(c.QUEUE_PREFIX).toBe('{mz}');
      expect(parseConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:7000', QUEUE_PREFIX: 'prod-{mz}' }).QUEUE_PREFIX).toBe('prod-{mz}');
    });

    it('refuses a cluster prefix without a hash tag, and forged prefixes and seeds', () => {
      expect(() => parseConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:7000', QUEUE_PREFIX: 'mz' })).toThrow(/QUEUE_PREFIX.*hash tag/);
      for (const bad of ['{mz', 'mz}', '{}', '{a}{b}', 'a:b', '{m:z}', '{mz}\n', 'x'.repeat(65)]) {
        expect(() => parseConfig({ QUEUE_PREFIX: bad })).toThrow(/QUEUE_PREFIX/);
      }
      for (const bad of ['127.0.0.1', '127.0.0.1:0', 'host:99999', 'redis://host:7000', 'a:1,b', 'h st:1']) {
        expect(() => parseConfig({ REDIS_CLUSTER_NODES: bad })).toThrow(/REDIS_CLUSTER_NODES/);
      }
    });
  });

  it('takes an optional direct DATABASE_MIGRATION_URL and refuses a non-Postgres one', () => {
    expect(parseConfig({}).DATABASE_MIGRATION_URL).toBeUndefined();
    expect(parseConfig({ DATABASE_MIGRATION_URL: 'postgres://u:p@db:5432/mentor' }).DATABASE_MIGRATION_URL).toBe('postgres://u:p@db:5432/mentor');
    expect(() => parseConfig({ DATABASE_MIGRATION_URL: 'redis://db:5432/mentor' })).toThrow(/DATABASE_MIGRATION_URL/);
  });
});

const strong = () => randomBytes(32).toString('hex');

/** `NAME: value` / `NAME=value` / `--from-literal=NAME=value` for each secret variable, in the files operators copy from. */
function secretsWrittenInRepository(): { file: string; name: string; value: string }[] {
  const root = join(__dirname, '..', '..', '..');
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.(ya?ml|env|md|example|json)$/.test(entry) || entry.startsWith('.env')) files.push(path);
    }
  };
  for (const dir of ['docker', 'k8s', 'docs']) walk(join(root, dir));
  files.push(join(root, 'README.md'));
  const out: { file: string; name: string; value: string }[] = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const name of SECRET_VARIABLES) {
      for (const m of text.matchAll(new RegExp(`${name}["']?\\s*[:=]\\s*["']?([^"'\\s$)]{6,})`, 'g'))) {
        // ${VAR:-default} / ${VAR:?message}: the part after the operator is what compose would use
        const value = m[1].replace(/^\$\{[A-Z_]+:?[-?]/, '');
        if (value.startsWith('$') || value.startsWith('<')) continue;
        out.push({ file: file.slice(root.length + 1), name, value });
      }
    }
  }
  return out;
}
