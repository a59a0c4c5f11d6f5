/**
 * A certificate authority made at test time with the openssl CLI (Node has no X.509 issuing API):
 * a CA, and leaf certificates it signs for a host name, written as PEM files in a temp dir.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCa {
  dir: string;
  caCertFile: string;
  caPem: string;
  /** A leaf for `host` (SAN DNS), signed by this CA; returns the PEM file paths. */
  issue(host: string, name: string, opts?: { days?: number }): { certFile: string; keyFile: string };
  dispose(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

export function createTestCa(label = 'mz-test-ca'): TestCa {
  const dir = mkdtempSync(join(tmpdir(), `${label}-`));
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', `/CN=${label}`], dir);
  const caCertFile = join(dir, 'ca.crt');
  return {
    dir,
    caCertFile,
    caPem: readFileSync(caCertFile, 'utf8'),
    issue(host, name, opts = {}) {
      const ext = join(dir, `${name}.ext`);
      writeFileSync(ext, `subjectAltName=DNS:${host}\nextendedKeyUsage=serverAuth\n`);
      openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${host}`], dir);
      openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', String(opts.days ?? 1), '-extfile', ext], dir);
      return { certFile: join(dir, `${name}.crt`), keyFile: join(dir, `${name}.key`) };
    },
    dispose() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
