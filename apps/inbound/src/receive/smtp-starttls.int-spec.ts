/**
 * STARTTLS on the inbound MX with real TLS on both sides: a CA made at test time, a verifying
 * client doing STARTTLS at TLS 1.2+, a reply over it stored once; renewed files served to new
 * connections without a restart; a broken renewal keeps the certificate in use.
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import nodemailer from 'nodemailer';
import type { DataSource } from 'typeorm';
import { createDataSource } from '@mz/db';
import { type RunningService, startService } from '@mz/platform';
import { FakeDnsZone } from '../../../../test/fakes/fake-dns-zone';
import { metricValue } from '../../../../test/support/metrics';
import { eventually } from '../../../../test/support/services';
import { createTestCa, type TestCa } from '../../../../test/support/test-ca';
import { createTestEnv, type TestEnv } from '../../../../test/support/test-env';
import { inboundService } from '../inbound.definition';
import { InboundSmtpServer } from './smtp-inbound.server';

jest.setTimeout(60_000);

const REPLY_DOMAIN = 'reply.mentor.test';
const MX = 'mx.reply.mentor.test';

describe('inbound SMTP with STARTTLS', () => {
  let env: TestEnv;
  let ds: DataSource;
  let ca: TestCa;
  let svc: RunningService;
  let port: number;
  let certFile: string;
  let keyFile: string;

  beforeAll(async () => {
    env = await createTestEnv();
    ds = createDataSource({ url: env.databaseUrl, poolMax: 2 });
    await ds.initialize();
    ca = createTestCa();
    const first = ca.issue(MX, 'first');
    // The service reads fixed paths, as it would a mounted Secret; the test replaces their content.
    certFile = join(ca.dir, 'tls.crt');
    keyFile = join(ca.dir, 'tls.key');
    copyFileSync(first.certFile, certFile);
    copyFileSync(first.keyFile, keyFile);
    svc = await startService(inboundService({ resolver: new FakeDnsZone().resolver, tlsReloadMs: 200 }), {
      ...env.vars, PORT: '0', INBOUND_SMTP_PORT: '0', REPLY_DOMAIN, INBOUND_TLS_CERT_FILE: certFile, INBOUND_TLS_KEY_FILE: keyFile,
    });
    port = svc.app.get(InboundSmtpServer).port!;
  });

  afterAll(async () => {
    await svc?.close();
    await ds?.destroy();
    await env?.dispose();
    ca?.dispose();
  });

  const send = (text: string, opts: { requireTLS?: boolean; ignoreTLS?: boolean } = {}) =>
    nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, name: 'client.example', tls: { ca: ca.caPem, servername: MX, minVersion: 'TLSv1.2' }, ...opts })
      .sendMail({ from: 'sam@example.com', to: `reply@${REPLY_DOMAIN}`, subject: 'Re: hello', text, messageId: `<${text.replace(/\W/g, '')}@example.com>` });

  it('advertises STARTTLS, completes a verified handshake at TLS 1.2+ and stores a reply sent over it once', async () => {
    const before = await metricValue(svc.url, 'mz_inbound_smtp_sessions_total', { tls: 'true' });
    const info = await send('over tls one', { requireTLS: true });
    expect(info.response).toMatch(/^250/);
    await send('over tls one', { requireTLS: true }); // the same Message-ID again: still one row
    const rows = await ds.query(`SELECT count(*)::int AS n FROM inbound_message WHERE message_id = '<overtlsone@example.com>'`);
    expect(rows[0].n).toBe(1);
    await eventually(async () => (await metricValue(svc.url, 'mz_inbound_smtp_sessions_total', { tls: 'true' })) >= before + 2, 'encrypted sessions counted');
    expect(await metricValue(svc.url, 'mz_tls_certificate_expiry_seconds', { use: 'inbound_smtp' })).toBeGreaterThan(3600);
  });

  it('refuses TLS 1.1 and a client that does not trust our CA gets no session', async () => {
    await expect(nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, requireTLS: true, tls: { ca: ca.caPem, servername: MX, maxVersion: 'TLSv1.1', minVersion: 'TLSv1' } }).verify()).rejects.toThrow();
    await expect(nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, requireTLS: true, tls: { servername: MX } }).verify()).rejects.toThrow(/certificate/i);
  });

  it('still takes plaintext mail from a sender that does not upgrade, counted as such', async () => {
    const before = await metricValue(svc.url, 'mz_inbound_smtp_sessions_total', { tls: 'false' });
    expect((await send('plain text reply', { ignoreTLS: true })).response).toMatch(/^250/);
    await eventually(async () => (await metricValue(svc.url, 'mz_inbound_smtp_sessions_total', { tls: 'false' })) > before, 'plaintext session counted');
  });

  it('serves renewed files to new connections without a restart; a broken renewal keeps the pair in use', async () => {
    const fingerprintSeen = async () => {
      const socket = await new Promise<TLSSocket>((resolve, reject) => {
        // A raw STARTTLS dialogue, to read the certificate the server presents.
        const plain = netConnect(port, '127.0.0.1');
        let buf = '';
        plain.on('data', (d: Buffer) => {
          buf += d.toString();
          if (/^220 /m.test(buf) && !buf.includes('EHLO-SENT')) {
            buf += 'EHLO-SENT';
            plain.write('EHLO client.example\r\n');
          } else if (/250 [^\n]*\n?$/m.test(buf) && !buf.includes('STARTTLS-SENT')) {
            buf += 'STARTTLS-SENT';
            plain.write('STARTTLS\r\n');
          } else if (/220 .*TLS|220 Ready/i.test(buf.split('STARTTLS-SENT')[1] ?? '')) {
            plain.removeAllListeners('data');
            const s = tlsConnect({ socket: plain, servername: MX, ca: ca.caPem }, () => resolve(s));
            s.on('error', reject);
          }
        });
        plain.on('error', reject);
      });
      const fp = socket.getPeerCertificate().fingerprint256;
      expect(socket.getProtocol()).toMatch(/^TLSv1\.[23]$/);
      socket.destroy();
      return fp;
    };
    const first = await fingerprintSeen();

    // A broken renewal (key of another certificate): the pair in use stays, and it is counted.
    const other = ca.issue(MX, 'other');
    const errorsBefore = await metricValue(svc.url, 'mz_inbound_tls_reloads_total', { outcome: 'error' });
    copyFileSync(other.certFile, certFile);
    writeFileSync(keyFile, readFileSync(ca.issue(MX, 'stray').keyFile));
    await eventually(async () => (await metricValue(svc.url, 'mz_inbound_tls_reloads_total', { outcome: 'error' })) > errorsBefore, 'broken pair noticed');
    expect(await fingerprintSeen()).toBe(first);

    // The matching key lands: new connections get the renewed certificate.
    copyFileSync(other.keyFile, keyFile);
    await eventually(async () => (await fingerprintSeen()) !== first, 'renewed certificate served', 10_000, 100);
  });
});
