import { type KeyObject, verify as verifySignature, X509Certificate } from 'node:crypto';
import { request } from 'node:https';
import { z } from 'zod';
import type { Verification } from './verify';

/** Where AWS serves SNS signing certificates and subscription URLs: https on `sns.<region>.amazonaws.com` (`.com.cn` in China). */
export const SNS_HOST = /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/;

/** The SNS HTTP(S) delivery, as documented; fields we do not sign or read are allowed and ignored. */
export const SnsMessage = z.looseObject({
  Type: z.enum(['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation']),
  MessageId: z.string().min(1).max(256),
  TopicArn: z.string().min(1).max(512),
  Message: z.string(),
  Timestamp: z.string().min(1).max(64),
  SignatureVersion: z.enum(['1', '2']),
  Signature: z.string().min(1).max(2048),
  SigningCertURL: z.string().min(1).max(2048),
  Subject: z.string().max(1000).optional(),
  Token: z.string().max(2048).optional(),
  SubscribeURL: z.string().max(4096).optional(),
});
export type SnsMessage = z.infer<typeof SnsMessage>;

/** The canonical string SNS signs (AWS: "Verifying the signatures of Amazon SNS messages"). */
export function snsStringToSign(m: SnsMessage): string {
  const keys = m.Type === 'Notification'
    ? ['Message', 'MessageId', ...(m.Subject !== undefined ? ['Subject'] : []), 'Timestamp', 'TopicArn', 'Type']
    : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
  return keys.map((k) => `${k}\n${(m as Record<string, unknown>)[k] ?? ''}\n`).join('');
}

/** An https URL on an SNS host (the pattern replaceable in tests only), or null. */
export function snsUrl(value: string | undefined, hostPattern: RegExp): URL | null {
  if (!value) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' || url.username || url.password) return null;
  return hostPattern.test(url.hostname.toLowerCase()) ? url : null;
}

export interface SnsVerifierOptions {
  /** Hosts a SigningCertURL/SubscribeURL may name. Production: SNS_HOST; tests: their local server. */
  hostPattern: RegExp;
  /** Extra CA for those https fetches (tests: the test CA); the system's otherwise. */
  ca?: string;
  /** A notification older than this (its signed Timestamp) is refused. */
  maxAgeSeconds: number;
  /** How long a fetched certificate is kept (and at most until it expires). */
  certCacheMs: number;
  timeoutMs: number;
}

const MAX_FETCH_BYTES = 64 * 1024;

/** GET over https only, bounded in time and size; resolves the body, rejects on any other status. */
export function httpsGet(url: URL, opts: { ca?: string; timeoutMs: number }): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', ca: opts.ca, timeout: opts.timeoutMs, headers: { accept: '*/*' } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`GET ${url.host}${url.pathname} answered ${res.statusCode}`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_FETCH_BYTES) {
          req.destroy(new Error('response too large'));
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Verifies SNS deliveries: the certificate from an allowed https SigningCertURL (cached, in
 * flight once per URL), an RSA signature over the canonical string — SHA1 for SignatureVersion 1,
 * SHA256 for 2 — and a signed Timestamp that is not too old. TLS to the AWS host is what makes
 * the certificate AWS's: the URL rule is the whole trust decision, so it is never relaxed
 * outside tests.
 */
export class SnsVerifier {
  private readonly certs = new Map<string, { key: Promise<KeyObject>; until: number }>();

  constructor(private readonly options: SnsVerifierOptions, private readonly now: () => number = Date.now) {}

  async verify(m: SnsMessage): Promise<Verification> {
    const url = snsUrl(m.SigningCertURL, this.options.hostPattern);
    if (!url || !url.pathname.endsWith('.pem')) return { ok: false, reason: 'cert' };
    const at = Date.parse(m.Timestamp);
    if (!Number.isFinite(at)) return { ok: false, reason: 'malformed' };
    let key: KeyObject;
    try {
      key = await this.certificate(url);
    } catch {
      return { ok: false, reason: 'cert' };
    }
    let good = false;
    try {
      good = verifySignature(m.SignatureVersion === '1' ? 'sha1' : 'sha256', Buffer.from(snsStringToSign(m), 'utf8'), key, Buffer.from(m.Signature, 'base64'));
    } catch {
      good = false;
    }
    if (!good) return { ok: false, reason: 'mismatch' };
    const ageSeconds = (this.now() - at) / 1000;
    if (ageSeconds > this.options.maxAgeSeconds) return { ok: false, reason: 'stale' };
    if (ageSeconds < -300) return { ok: false, reason: 'future' };
    return { ok: true };
  }

  /** Confirms a subscription by fetching its SubscribeURL (same host rule as the certificate). */
  async confirm(m: SnsMessage): Promise<boolean> {
    const url = snsUrl(m.SubscribeURL, this.options.hostPattern);
    if (!url) return false;
    await httpsGet(url, { ca: this.options.ca, timeoutMs: this.options.timeoutMs });
    return true;
  }

  private certificate(url: URL): Promise<KeyObject> {
    const k = url.toString();
    const now = this.now();
    const cached = this.certs.get(k);
    if (cached && cached.until > now) return cached.key;
    const key = httpsGet(url, { ca: this.options.ca, timeoutMs: this.options.timeoutMs }).then((pem) => {
      const cert = new X509Certificate(pem);
      const notAfter = Date.parse(cert.validTo);
      if (!(notAfter > this.now()) || !(Date.parse(cert.validFrom) <= this.now())) throw new Error('signing certificate not valid now');
      const entry = this.certs.get(k);
      if (entry) entry.until = Math.min(this.now() + this.options.certCacheMs, notAfter);
      return cert.publicKey;
    });
    this.certs.set(k, { key, until: now + this.options.certCacheMs });
    // A failed fetch is not cached: the next request tries again.
    key.catch(() => this.certs.delete(k));
    if (this.certs.size > 100) this.certs.delete(this.certs.keys().next().value as string);
    return key;
  }
}
