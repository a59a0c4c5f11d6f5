import { isIP } from 'node:net';
import { z } from 'zod';
import { MAIL_PROVIDERS } from './enums';

/**
 * The one configuration schema (docs/architecture.md §6). Every service validates its environment with it at
 * start; a bad or missing value stops the service with a message naming each bad variable.
 * Defaults serve a local run; production (NODE_ENV=production) must provide real secrets.
 */

const DURATION = /^(\d+)(ms|s|m|h|d)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "900000", "900s", "15m", "6h" → milliseconds. */
export function parseDuration(value: string): number | undefined {
  const m = DURATION.exec(value.trim());
  if (!m) return undefined;
  return Number(m[1]) * UNIT_MS[m[2] ?? 'ms'];
}

const duration = (def: string) =>
  z
    .string()
    .default(def)
    .transform((v, ctx) => {
      const ms = parseDuration(v);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `expected a duration like 900000, 90s, 15m or 6h, got "${v}"` });
        return z.NEVER;
      }
      return ms;
    });

const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max).default(def);
const url = (protocols: string[]) =>
  z.string().refine((v) => {
    try {
      return protocols.includes(new URL(v).protocol.replace(/:$/, ''));
    } catch {
      return false;
    }
  }, `expected a URL with scheme ${protocols.join(' or ')}`);

const emailList = z
  .string()
  .default('')
  .transform((v) => v.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean))
  .pipe(z.array(z.email()));

/** One model's list price in USD per 1M tokens: input, input served from the prompt cache, output. */
export const LlmPrice = z.strictObject({ input: z.number().min(0).max(10_000), cached_input: z.number().min(0).max(10_000), output: z.number().min(0).max(10_000) });
export type LlmPrice = z.infer<typeof LlmPrice>;

/** LLM_PRICES: a JSON object of model → LlmPrice, over the built-in table (libs/llm llm-pricing.ts). */
const llmPrices = z.preprocess(
  (v, ctx) => {
    if (v === undefined || v === '') return {};
    try {
      return JSON.parse(String(v));
    } catch {
      ctx.addIssue({ code: 'custom', message: 'expected a JSON object such as {"my-model":{"input":0.5,"cached_input":0.25,"output":1.5}}' });
      return z.NEVER;
    }
  },
  z.record(z.string().min(1).max(200), LlmPrice),
);

/**
 * One TRUST_PROXY entry as Express (proxy-addr) will accept it: an IPv4/IPv6 address with an
 * optional prefix within its family's width. Checked here, so a typo stops the service with a
 * message naming TRUST_PROXY rather than a TypeError from app.set('trust proxy') after start.
 */
function proxyAddress(entry: string): boolean {
  const [ip, prefix, ...rest] = entry.split('/');
  const family = isIP(ip);
  if (!family || rest.length) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
}
/**
 * TRUST_PROXY: whose X-Forwarded-For to believe. Empty (default): nobody's — the client address is
 * the TCP peer. A number: that many proxy hops in front of the service (e.g. 1 behind one ingress).
 * Otherwise a comma-separated list of proxy addresses or CIDRs (or Express's names loopback,
 * linklocal, uniquelocal). Never "true": believing every hop lets any client pick its address.
 */
const trustProxy = z
  .string()
  .default('')
  .transform((v, ctx): false | number | string[] => {
    const s = v.trim();
    if (s === '' || s === 'false' || s === '0') return false;
    if (/^\d+$/.test(s)) {
      const hops = Number(s);
      if (hops <= 32) return hops;
    } else {
      const entries = s.split(',').map((e) => e.trim()).filter(Boolean);
      if (entries.length && entries.every((e) => proxyAddress(e) || ['loopback', 'linklocal', 'uniquelocal'].includes(e))) return entries;
    }
    ctx.addIssue({ code: 'custom', message: `expected empty, a hop count (1-32) or proxy addresses/CIDRs separated by commas, got "${v}"` });
    return z.NEVER;
  });

/**
 * A BullMQ key prefix. On a Redis Cluster it must carry a hash tag (`{mz}`) so every key of a
 * queue hashes to one slot (BullMQ's scripts touch several keys at once). No `:` — BullMQ
 * joins prefix, queue name and key with it.
 */
const QUEUE_PREFIX = /^[A-Za-z0-9_-]*(\{[A-Za-z0-9_-]+\}[A-Za-z0-9_-]*)?$/;
export const hasHashTag = (prefix: string): boolean => /\{[^{}]+\}/.test(prefix);

/** `host:port,host:port` seeds of a Redis Cluster (hostnames, IPv4 or bracketed IPv6). */
const clusterNodes = z
  .string()
  .default('')
  .transform((v, ctx) => {
    const nodes: { host: string; port: number }[] = [];
    for (const seed of v.split(',').map((s) => s.trim()).filter(Boolean)) {
      const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(seed);
      const port = m ? Number(m[2]) : 0;
      if (!m || port < 1 || port > 65535) {
        ctx.addIssue({ code: 'custom', message: `expected host:port seeds separated by commas, got "${seed}"` });
        return z.NEVER;
      }
      nodes.push({ host: m[1].replace(/^\[|\]$/g, ''), port });
    }
    return nodes;
  });

const DEV_SECRET = 'local-development-secret-change-me-0000';

/**
 * Every variable that holds a secret: production refuses each one that is weak (one line per new
 * secret). Weak: shorter than 32 characters, a value that appears in this repository (defaults,
 * examples, dev overlays — public by definition), or a placeholder by its wording.
 */
export const SECRET_VARIABLES = ['WEBHOOK_SECRET', 'SESSION_SECRET', 'MAIL_ADDRESS_SECRET', 'SENDGRID_INBOUND_PASSWORD', 'POSTMARK_WEBHOOK_PASSWORD'] as const;
export const MIN_SECRET_LENGTH = 32;
/** Secret values written in this repository (a spec scans docker/, k8s/ and the docs so this list cannot fall behind). */
export const PUBLIC_SECRET_VALUES: ReadonlySet<string> = new Set([
  DEV_SECRET,
  'change-me-webhook-secret-placeholder',
  'change-me-session-secret-placeholder-000',
  'dev-only-webhook-secret-change-me',
  'dev-only-session-secret-change-me-0000',
]);
const PLACEHOLDER_WORDING = /change[-_ ]?me|placeholder|example|dev[-_]only|^(.)\1+$/i;

/** Why a secret must not be used in production, or null when it is fine. */
export function weakSecretReason(value: string): string | null {
  if (value.length < MIN_SECRET_LENGTH) return `must be at least ${MIN_SECRET_LENGTH} characters in production (e.g. openssl rand -hex 32)`;
  if (PUBLIC_SECRET_VALUES.has(value)) return 'is a value published in the repository; generate your own (openssl rand -hex 32)';
  if (PLACEHOLDER_WORDING.test(value)) return 'looks like a placeholder; generate a real secret (openssl rand -hex 32)';
  return null;
}
const empty = (v: unknown) => (v === '' ? undefined : v);

export const ConfigSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    /**
     * Which service this process runs (set by docker/entrypoint.sh and the k8s Deployments); unset
     * when started otherwise. Checks that concern one service (the MX certificate) use it.
     */
    APP: z.preprocess(empty, z.string().optional()),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    DATABASE_URL: url(['postgres', 'postgresql']).default('postgres://postgres@127.0.0.1:5432/mentor'),
    DATABASE_POOL_MAX: int(10, 1, 200),
    /**
     * A direct (not pooled) URL for migrations and the other database commands when DATABASE_URL
     * points at PgBouncer in transaction mode: DDL and CREATE DATABASE want one session.
     */
    DATABASE_MIGRATION_URL: z.preprocess(empty, url(['postgres', 'postgresql']).optional()),
    REDIS_URL: url(['redis', 'rediss']).default('redis://127.0.0.1:6379'),
    /** Redis Cluster seeds; when set every connection is a cluster client (REDIS_URL still gives credentials and TLS). */
    REDIS_CLUSTER_NODES: clusterNodes,
    /** Default `mz`, or `{mz}` when REDIS_CLUSTER_NODES is set (see the transform below). */
    QUEUE_PREFIX: z.preprocess(empty, z.string().min(1).max(64).regex(QUEUE_PREFIX, 'letters, digits, _ and - only, with at most one {hash tag}').optional()),
    /** Outgoing SMTP; `npm start` runs a local mail catcher here when unset. */
    SMTP_URL: z.preprocess(empty, url(['smtp', 'smtps']).default('smtp://127.0.0.1:1025')),
    SMTP_POOL_SIZE: int(5, 1, 100),
    /**
     * Messages one pooled SMTP connection carries before it is replaced (nodemailer's maxMessages,
     * whose own default is 100). Each replacement waits for a new greeting, which relays delay on
     * purpose (smtp-server 100 ms, Postfix's postscreen longer). Postfix's client sets no count
     * limit and KumoMTA's default is 1,024, so 1,000; lower it for a relay that limits messages per
     * connection (docs/performance.md, issue 14, sixth round).
     */
    SMTP_MAX_MESSAGES: int(1000, 1, 100_000),
    /** Sends per second across all mailer replicas (BullMQ's global limiter). */
    SMTP_RATE_PER_SEC: int(50, 1, 100_000),
    LLM_BASE_URL: z.preprocess(empty, url(['http', 'https']).optional()),
    LLM_API_KEY: z.preprocess(empty, z.string().optional()),
    LLM_MODEL: z.string().min(1).default('gpt-4o-mini'),
    LLM_TIMEOUT_MS: int(60_000, 100, 600_000),
    LLM_MAX_RETRIES: int(2, 0, 10),
    /** Prices per model (USD per 1M tokens) for the cost of each letter and reply classification. */
    LLM_PRICES: llmPrices,
    /** Consecutive failed LLM calls that open the composer's circuit (letters then go offline if allowed). */
    LLM_CIRCUIT_FAILURES: int(5, 1, 1_000),
    /** How long an open circuit refuses calls before one probe is let through. */
    LLM_CIRCUIT_OPEN_MS: int(60_000, 100, 3_600_000),
    /**
     * Batch composing (docs/architecture.md §7): a letter is batched only while its slot is more
     * than this away, and one whose batch answer has not arrived this long before its slot is
     * composed synchronously instead.
     */
    LLM_BATCH_MARGIN: duration('2h'),
    /** How often the composer submits pending batch requests as one batch and polls open batches. */
    LLM_BATCH_WINDOW_MS: int(600_000, 100, 86_400_000),
    /** The Batch API's discount on list prices (0.5: batches cost half). */
    LLM_BATCH_DISCOUNT: z.coerce.number().min(0).max(1).default(0.5),
    APP_BASE_URL: url(['http', 'https']).default('http://localhost:3000').transform((v) => v.replace(/\/+$/, '')),
    MAIL_FROM: z.string().min(3).default('Mentor Zero <mentor@mentor.localhost>'),
    /** The address the site's footer offers as "Contact" (a mailto:). Unset: the address in MAIL_FROM. */
    CONTACT_EMAIL: z.preprocess(empty, z.email({ message: 'expected an email address' }).optional()),
    REPLY_DOMAIN: z
      .string()
      .regex(/^[a-z0-9.-]+\.[a-z0-9-]+$|^[a-z0-9-]+$/i, 'expected a domain name')
      .default('reply.mentor.localhost')
      .transform((v) => v.toLowerCase()),
    WEBHOOK_SECRET: z.string().min(16, 'at least 16 characters').default(DEV_SECRET),
    SESSION_SECRET: z.string().min(32, 'at least 32 characters').default(DEV_SECRET),
    DEFAULT_ADMIN_EMAILS: emailList,
    PORT: z.preprocess(empty, z.coerce.number().int().min(0).max(65535).optional()),
    TRUST_PROXY: trustProxy,
    INBOUND_SMTP_PORT: int(2525, 0, 65535),
    INBOUND_SMTP_MAX_BYTES: int(10 * 1024 * 1024, 1024),
    /** STARTTLS on the inbound MX: PEM certificate (chain included) and key files, re-read when they change. */
    INBOUND_TLS_CERT_FILE: z.preprocess(empty, z.string().optional()),
    INBOUND_TLS_KEY_FILE: z.preprocess(empty, z.string().optional()),
    /** `off`: no STARTTLS on purpose (a TLS-terminating MTA in front). Production needs the files otherwise. */
    INBOUND_TLS: z.preprocess(empty, z.enum(['on', 'off']).optional()),
    /**
     * Refuse to hand mail to a relay over a connection that did not upgrade to TLS (Postfix's
     * smtp_tls_security_level = encrypt). Default: on, unless SMTP_URL's host is loopback.
     */
    SMTP_REQUIRE_TLS: z.preprocess(empty, z.enum(['true', 'false']).optional()).transform((v) => (v === undefined ? undefined : v === 'true')),
    /** MTA-STS (RFC 8461) for REPLY_DOMAIN: the policy mode served at mta-sts.<REPLY_DOMAIN>/.well-known/mta-sts.txt. */
    MTA_STS_MODE: z.enum(['none', 'testing', 'enforce']).default('none'),
    /** The MX host names the policy allows, comma-separated (wildcards like *.example.com allowed); default REPLY_DOMAIN. */
    MTA_STS_MX: z.preprocess(empty, z.string().regex(/^(\*\.)?[a-z0-9.-]+(,\s*(\*\.)?[a-z0-9.-]+)*$/i, 'comma-separated host names').optional()),
    /** How long senders cache the policy, seconds (RFC 8461 allows up to 31557600). */
    MTA_STS_MAX_AGE: int(604_800, 60, 31_557_600),
    /** A private CA (PEM file) to verify the relay's certificate with, on top of the system's. */
    SMTP_CA_FILE: z.preprocess(empty, z.string().optional()),
    INBOUND_IMAP_URL: z.preprocess(empty, url(['imap', 'imaps']).optional()),
    INBOUND_IMAP_POLL_MS: int(30_000, 500),
    SCHEDULER_TICK_MS: int(5_000, 100),
    SCHEDULER_BATCH_SIZE: int(500, 1, 10_000),
    SCHEDULER_CONCURRENCY: int(2, 1, 16),
    COMPOSE_LEAD: duration('15m'),
    /**
     * The lead while `llm_batch_compose` is on: letters must exist well before their slot to be
     * composed through a batch (docs/architecture.md §7).
     */
    COMPOSE_LEAD_BATCH: duration('24h'),
    CATCH_UP_WINDOW: duration('6h'),
    /**
     * A worker's lease on a composing/sending row, extended every LEASE_MS / 3 while the worker
     * lives (LetterLeases): a killed worker's letters are re-driven within about LEASE_MS plus
     * one sweep, a healthy long LLM call never is.
     */
    LEASE_MS: int(30_000, 1_000),
    /**
     * Letters in flight per composer. Sized for the LLM's latency, not the CPU: a composer holds a
     * letter for a whole LLM call, so its rate is about COMPOSER_CONCURRENCY ÷ latency (R6): 32 at
     * 1.5 s is ~21 letters/s per replica (docs/operations.md, capacity guide).
     */
    COMPOSER_CONCURRENCY: int(32, 1, 1000),
    /**
     * Letters in flight per mailer. About half of a send is the ledger and the queue, when it holds
     * no SMTP connection, so keeping SMTP_POOL_SIZE connections busy takes more than twice the pool
     * in flight: 20 for the default pool of 5 (docs/performance.md, issue 14, sixth round).
     */
    MAILER_CONCURRENCY: int(20, 1, 1000),
    INBOUND_CONCURRENCY: int(4, 1, 100),
    SHUTDOWN_TIMEOUT_MS: int(25_000, 100, 600_000),
    SWEEP_INTERVAL_MS: int(10_000, 100, 3_600_000),
    // ---- Mail trust (docs/architecture.md §8): DKIM, signed addresses, inbound authentication ----
    /** DKIM signing domain (d=); unset → letters leave unsigned (a warning at start in production). */
    DKIM_DOMAIN: z.preprocess(empty, z.string().regex(/^[a-z0-9.-]+\.[a-z0-9-]+$/i, 'expected a domain name').transform((v) => v.toLowerCase()).optional()),
    DKIM_SELECTOR: z.preprocess(empty, z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/i, 'expected a DNS label').optional()),
    /** PEM text (\n escapes allowed) or a path to a PEM file; RSA, at least 1024 bits. */
    DKIM_PRIVATE_KEY: z.preprocess(empty, z.string().optional()),
    /** The key published ahead of a rotation (docs/operations.md, "DKIM key rotation"). */
    DKIM_NEXT_SELECTOR: z.preprocess(empty, z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/i, 'expected a DNS label').optional()),
    DKIM_NEXT_PRIVATE_KEY: z.preprocess(empty, z.string().optional()),
    /** Signs the r+/b+/u+ addresses on REPLY_DOMAIN; unset → derived from SESSION_SECRET under its own label. */
    MAIL_ADDRESS_SECRET: z.preprocess(empty, z.string().min(32, 'at least 32 characters').optional()),
    /**
     * authserv-ids whose Authentication-Results header is believed on the webhook and IMAP paths
     * (where we did not see the connection), e.g. `amazonses.com` or `mx.google.com`; only the topmost
     * header counts. Empty: those paths get our own DKIM/DMARC check only.
     */
    INBOUND_TRUSTED_AUTHSERV_IDS: z
      .string()
      .default('')
      .transform((v) => v.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean)),
    // ---- Mail providers: what the mailer stamps for them, and their native webhooks on the inbound service ----
    /** The relay SMTP_URL points at: the mailer stamps the letter id where this provider echoes it in its events. */
    MAIL_PROVIDER: z.preprocess(empty, z.enum(MAIL_PROVIDERS).default('smtp')),
    /** Mailgun's HTTP webhook signing key (Sending → Webhooks); unset → the Mailgun endpoints refuse everything. */
    MAILGUN_WEBHOOK_SIGNING_KEY: z.preprocess(empty, z.string().min(8).optional()),
    /** SendGrid's event webhook verification key (base64 DER, as the Mail Settings page shows it, or PEM). */
    SENDGRID_WEBHOOK_PUBLIC_KEY: z.preprocess(empty, z.string().min(40).optional()),
    /** HTTP Basic credentials put in the Inbound Parse URL (https://user:password@host/webhooks/sendgrid/inbound). */
    SENDGRID_INBOUND_USER: z.preprocess(empty, z.string().min(1).max(128).regex(/^[^:]+$/, 'no ":"').optional()),
    SENDGRID_INBOUND_PASSWORD: z.preprocess(empty, z.string().min(16, 'at least 16 characters').optional()),
    /** HTTP Basic credentials set on Postmark's inbound and event webhooks. */
    POSTMARK_WEBHOOK_USER: z.preprocess(empty, z.string().min(1).max(128).regex(/^[^:]+$/, 'no ":"').optional()),
    POSTMARK_WEBHOOK_PASSWORD: z.preprocess(empty, z.string().min(16, 'at least 16 characters').optional()),
    /** SNS topics whose notifications POST /webhooks/ses accepts (comma-separated ARNs); empty → none. */
    SES_SNS_TOPIC_ARNS: z
      .string()
      .default('')
      .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
      .pipe(z.array(z.string().regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/, 'expected SNS topic ARNs (arn:aws:sns:<region>:<account>:<topic>)'))),
    /** Multiplies every computed retry delay (RetryLaterError); tests use e.g. 0.01 so backoffs take milliseconds. */
    RETRY_DELAY_SCALE: z.coerce.number().min(0).max(1).default(1),
    // --- tracing (docs/architecture.md §6): off unless an OTLP endpoint is set ---
    /** OTLP/HTTP base URL of a collector (e.g. http://otel-collector:4318); spans go to <it>/v1/traces. Unset: no tracing at all. */
    OTEL_EXPORTER_OTLP_ENDPOINT: z.preprocess(empty, url(['http', 'https']).optional()),
    /** The full traces URL, when the collector's path is not /v1/traces (overrides the above for traces). */
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.preprocess(empty, url(['http', 'https']).optional()),
    /**
     * Extra headers for the exporter (read by it; e.g. a vendor's API key), `key=value,key2=value2`.
     * Checked here only for shape, so a typo stops the service instead of silently dropping spans.
     */
    OTEL_EXPORTER_OTLP_HEADERS: z.preprocess(empty, z.string().regex(/^\s*[^=,\s]+\s*=[^,]*(,\s*[^=,\s]+\s*=[^,]*)*$/, 'expected key=value pairs separated by commas').optional()),
    /** Share of new traces kept (0..1), e.g. 0.1; a job's spans follow its letter's or reply's decision. */
    OTEL_TRACES_SAMPLER_ARG: z.preprocess(empty, z.coerce.number().min(0).max(1).default(1)),
    // --- local start (docs/architecture.md §13) ---
    /** Names this process in /health/ready; `npm start` passes one per run to know its own children answered. */
    INSTANCE_ID: z.preprocess(empty, z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'letters, digits, . _ : - only').optional()),
  })
  .superRefine((c, ctx) => {
    if (Boolean(c.INBOUND_TLS_CERT_FILE) !== Boolean(c.INBOUND_TLS_KEY_FILE)) {
      for (const key of ['INBOUND_TLS_CERT_FILE', 'INBOUND_TLS_KEY_FILE'] as const) {
        if (!c[key]) ctx.addIssue({ code: 'custom', path: [key], message: 'INBOUND_TLS_CERT_FILE and INBOUND_TLS_KEY_FILE go together' });
      }
    }
    if (c.INBOUND_TLS === 'off' && c.INBOUND_TLS_CERT_FILE) {
      ctx.addIssue({ code: 'custom', path: ['INBOUND_TLS'], message: 'is off but INBOUND_TLS_CERT_FILE is set: choose one' });
    }
    // Only the inbound service serves the MX; the others share its configuration but never read
    // the certificate, so they need not name one (a process that does not say which it is does).
    if (c.NODE_ENV === 'production' && (c.APP === undefined || c.APP === 'inbound') && !c.INBOUND_TLS_CERT_FILE && c.INBOUND_TLS !== 'off') {
      ctx.addIssue({
        code: 'custom', path: ['INBOUND_TLS_CERT_FILE'],
        message: 'must be set in production (STARTTLS on the MX), or set INBOUND_TLS=off on purpose when a TLS-terminating MTA is in front',
      });
    }
    const dkim = [c.DKIM_DOMAIN, c.DKIM_SELECTOR, c.DKIM_PRIVATE_KEY];
    if (dkim.some(Boolean) && !dkim.every(Boolean)) {
      for (const key of ['DKIM_DOMAIN', 'DKIM_SELECTOR', 'DKIM_PRIVATE_KEY'] as const) {
        if (!c[key]) ctx.addIssue({ code: 'custom', path: [key], message: 'DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY go together' });
      }
    }
    if (Boolean(c.DKIM_NEXT_SELECTOR) !== Boolean(c.DKIM_NEXT_PRIVATE_KEY)) {
      ctx.addIssue({ code: 'custom', path: [c.DKIM_NEXT_SELECTOR ? 'DKIM_NEXT_PRIVATE_KEY' : 'DKIM_NEXT_SELECTOR'], message: 'DKIM_NEXT_SELECTOR and DKIM_NEXT_PRIVATE_KEY go together' });
    }
    if (c.DKIM_NEXT_SELECTOR && c.DKIM_NEXT_SELECTOR === c.DKIM_SELECTOR) {
      ctx.addIssue({ code: 'custom', path: ['DKIM_NEXT_SELECTOR'], message: 'must differ from DKIM_SELECTOR' });
    }
    if (c.DKIM_NEXT_SELECTOR && !c.DKIM_DOMAIN) ctx.addIssue({ code: 'custom', path: ['DKIM_DOMAIN'], message: 'required with DKIM_NEXT_SELECTOR' });
    if (c.REDIS_CLUSTER_NODES.length && c.QUEUE_PREFIX !== undefined && !hasHashTag(c.QUEUE_PREFIX)) {
      ctx.addIssue({ code: 'custom', path: ['QUEUE_PREFIX'], message: 'on a Redis Cluster the prefix needs a {hash tag}, e.g. {mz}, so each queue\'s keys share a slot' });
    }
    for (const [user, password] of [['SENDGRID_INBOUND_USER', 'SENDGRID_INBOUND_PASSWORD'], ['POSTMARK_WEBHOOK_USER', 'POSTMARK_WEBHOOK_PASSWORD']] as const) {
      if (Boolean(c[user]) !== Boolean(c[password])) ctx.addIssue({ code: 'custom', path: [c[user] ? password : user], message: `${user} and ${password} go together` });
    }
    if (c.NODE_ENV !== 'production') return;
    for (const key of SECRET_VARIABLES) {
      const value = c[key];
      if (value === undefined) continue; // optional (MAIL_ADDRESS_SECRET is then derived from SESSION_SECRET)
      const reason = weakSecretReason(value);
      if (reason) ctx.addIssue({ code: 'custom', path: [key], message: value === DEV_SECRET ? `must be set in production: it ${reason}` : reason });
    }
    // A test knob: below 1 it shortens every backoff (0 removes it), which in production would turn
    // a relay's 421 or an LLM's 429 into a retry storm.
    if (c.RETRY_DELAY_SCALE !== 1) ctx.addIssue({ code: 'custom', path: ['RETRY_DELAY_SCALE'], message: 'is a test setting and must stay 1 in production' });
  })
  .transform((c) => ({ ...c, QUEUE_PREFIX: c.QUEUE_PREFIX ?? (c.REDIS_CLUSTER_NODES.length ? '{mz}' : 'mz') }));

export type AppConfig = z.infer<typeof ConfigSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses an environment; throws ConfigError naming every bad variable. */
export function parseConfig(env: Record<string, string | undefined>): AppConfig {
  const result = ConfigSchema.safeParse(env);
  if (result.success) return result.data;
  throw new ConfigError(result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
}

/** Whether the mailer must refuse a relay connection that is not encrypted (SMTP_REQUIRE_TLS, else: not loopback). */
export function smtpRequiresTls(c: Pick<AppConfig, 'SMTP_URL' | 'SMTP_REQUIRE_TLS'>): boolean {
  if (c.SMTP_REQUIRE_TLS !== undefined) return c.SMTP_REQUIRE_TLS;
  const host = new URL(c.SMTP_URL).hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return !(host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127\./.test(host));
}

/**
 * The footer's contact address: CONTACT_EMAIL, else the address inside MAIL_FROM
 * ("Mentor Zero <mentor@example.org>" → mentor@example.org), else none.
 */
export function contactEmail(c: Pick<AppConfig, 'CONTACT_EMAIL' | 'MAIL_FROM'>): string | null {
  if (c.CONTACT_EMAIL) return c.CONTACT_EMAIL;
  const m = /<([^<>\s]+@[^<>\s]+)>\s*$/.exec(c.MAIL_FROM) ?? /^\s*([^<>\s"]+@[^<>\s"]+)\s*$/.exec(c.MAIL_FROM);
  return m ? m[1] : null;
}

/** Whether an LLM endpoint is configured; without one the offline composer and rule-based intents run. */
export const llmConfigured = (c: AppConfig): boolean => Boolean(c.LLM_BASE_URL);
