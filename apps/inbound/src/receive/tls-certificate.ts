import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';

/** A certificate (chain) and its key, PEM, checked to belong together. */
export interface TlsPair {
  cert: string;
  key: string;
  /** When the leaf certificate expires. */
  validTo: Date;
  /** sha256 fingerprint of the leaf: tells a renewed certificate from the one in use. */
  fingerprint: string;
}

/**
 * Reads and checks a PEM certificate/key pair from disk: both readable, the key the leaf's, and
 * usable by Node's TLS. Throws with what is wrong (the caller keeps the pair it has).
 */
export function loadTlsPair(certFile: string, keyFile: string): TlsPair {
  const cert = readFileSync(certFile, 'utf8');
  const key = readFileSync(keyFile, 'utf8');
  const leaf = new X509Certificate(cert);
  if (!leaf.checkPrivateKey(createPrivateKey(key))) throw new Error('the key does not belong to the certificate');
  createSecureContext({ cert, key }); // what the server will do with it: fails on anything Node cannot use
  return { cert, key, validTo: new Date(leaf.validTo), fingerprint: leaf.fingerprint256 };
}

/**
 * TLS for the inbound MX (docs/architecture.md §9): modern protocol versions only, and a cipher
 * list of AEAD suites with forward secrecy (TLS 1.3's are always on).
 */
export const INBOUND_TLS_OPTIONS = {
  minVersion: 'TLSv1.2' as const,
  ciphers: [
    'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384',
    'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305',
  ].join(':'),
  honorCipherOrder: true,
};
