import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** One DKIM signing key: what nodemailer signs with and what DNS publishes. */
export interface DkimKey {
  domain: string;
  selector: string;
  /** PKCS#8 PEM, as nodemailer wants it. */
  privateKeyPem: string;
  /** Base64 SubjectPublicKeyInfo: the `p=` of the DKIM TXT record. */
  publicKeyBase64: string;
  bits: number;
}

export interface DkimKeys {
  /** Signs every message. */
  current: DkimKey;
  /** Published ahead of a rotation (DNS only); signs nothing until it becomes DKIM_SELECTOR. */
  next: DkimKey | null;
}

export interface DkimConfig {
  DKIM_DOMAIN?: string;
  DKIM_SELECTOR?: string;
  DKIM_PRIVATE_KEY?: string;
  DKIM_NEXT_SELECTOR?: string;
  DKIM_NEXT_PRIVATE_KEY?: string;
}

export class DkimKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DkimKeyError';
  }
}

/** Shorter RSA keys fail verification at receivers (RFC 8301: at least 1024, 2048 recommended). */
export const MIN_DKIM_BITS = 1024;

/** PEM text as given, or the content of the file a path names (k8s secrets are mounted as files). */
function pemText(value: string, variable: string): string {
  const v = value.trim();
  if (v.startsWith('-----BEGIN')) return v.replace(/\\n/g, '\n'); // one-line env values often carry literal \n
  try {
    return readFileSync(v, 'utf8');
  } catch (err) {
    throw new DkimKeyError(`${variable}: neither PEM text nor a readable file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function loadKey(domain: string, selector: string, value: string, variable: string): DkimKey {
  let key: KeyObject;
  try {
    key = createPrivateKey(pemText(value, variable));
  } catch (err) {
    if (err instanceof DkimKeyError) throw err;
    throw new DkimKeyError(`${variable}: not a private key in PEM form`);
  }
  if (key.asymmetricKeyType !== 'rsa') throw new DkimKeyError(`${variable}: an RSA key is required (nodemailer signs rsa-sha256), got ${key.asymmetricKeyType}`);
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_DKIM_BITS) throw new DkimKeyError(`${variable}: ${bits}-bit key; at least ${MIN_DKIM_BITS} bits (2048 recommended)`);
  const publicKeyBase64 = (createPublicKey(key).export({ type: 'spki', format: 'der' }) as Buffer).toString('base64');
  return { domain, selector, privateKeyPem: key.export({ type: 'pkcs8', format: 'pem' }) as string, publicKeyBase64, bits };
}

/**
 * The configured DKIM keys, or null when DKIM is off (DKIM_DOMAIN unset). Throws DkimKeyError
 * naming the variable when a key is unreadable, not RSA, or too short: a service that would send
 * unverifiable signatures must not start.
 */
export function loadDkimKeys(c: DkimConfig): DkimKeys | null {
  if (!c.DKIM_DOMAIN || !c.DKIM_SELECTOR || !c.DKIM_PRIVATE_KEY) return null;
  const current = loadKey(c.DKIM_DOMAIN, c.DKIM_SELECTOR, c.DKIM_PRIVATE_KEY, 'DKIM_PRIVATE_KEY');
  const next = c.DKIM_NEXT_SELECTOR && c.DKIM_NEXT_PRIVATE_KEY
    ? loadKey(c.DKIM_DOMAIN, c.DKIM_NEXT_SELECTOR, c.DKIM_NEXT_PRIVATE_KEY, 'DKIM_NEXT_PRIVATE_KEY')
    : null;
  return { current, next };
}
