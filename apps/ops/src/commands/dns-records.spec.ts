import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dkimVerify } from 'mailauth';
import nodemailer from 'nodemailer';
import { parseConfig } from '@mz/contracts';
import { mtaStsPolicyId } from '@mz/domain';
import { FakeDnsZone } from '../../../../test/fakes/fake-dns-zone';
import { runCli } from '../run-cli';
import { txtStrings } from './dns-records';

const rsa = (bits = 2048) => generateKeyPairSync('rsa', { modulusLength: bits }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const CURRENT = rsa();
const NEXT = rsa();

const ENV = {
  REPLY_DOMAIN: 'reply.mentor.example',
  MAIL_FROM: 'Mentor Zero <mentor@mentor.example>',
  SMTP_URL: 'smtp://relay.mentor.example:587',
  APP_BASE_URL: 'https://mentor.example',
  DKIM_DOMAIN: 'mentor.example',
  DKIM_SELECTOR: 'mz2026a',
  DKIM_PRIVATE_KEY: CURRENT,
  DKIM_NEXT_SELECTOR: 'mz2026b',
  DKIM_NEXT_PRIVATE_KEY: NEXT,
};

async function cli(args: string[], env: Record<string, string | undefined> = ENV) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { env, out: (l) => out.push(...l.split('\n')), err: (l) => err.push(l) });
  return { code, out, err };
}

async function signed(selector: string, privateKey: string): Promise<Buffer> {
  const t = nodemailer.createTransport({ streamTransport: true, buffer: true, dkim: { domainName: 'mentor.example', keySelector: selector, privateKey } });
  const info = await t.sendMail({ from: ENV.MAIL_FROM, to: 'ada@example.org', subject: 'Small steps', text: 'Dear Ada,\n\nOne thing.\n' });
  return info.message as Buffer;
}

describe('npm run mz -- dns-records', () => {
  it('prints MX, SPF, TLS reporting, both DKIM keys and DMARC as zone lines', async () => {
    const { code, out, err } = await cli(['dns-records']);
    expect(code).toBe(0);
    expect(err).toEqual([]);
    const records = out.filter((l) => !l.startsWith(';'));
    expect(records).toEqual([
      'reply.mentor.example.\t3600\tIN\tMX\t10 reply.mentor.example.',
      'reply.mentor.example.\t3600\tIN\tTXT\t"v=spf1 a:relay.mentor.example -all"',
      '_smtp._tls.reply.mentor.example.\t3600\tIN\tTXT\t"v=TLSRPTv1; rua=https://mentor.example/api/tlsrpt"',
      expect.stringMatching(/^mz2026a\._domainkey\.mentor\.example\.\t3600\tIN\tTXT\t"v=DKIM1; k=rsa; p=[A-Za-z0-9+/]+" "[A-Za-z0-9+/=]+"$/),
      expect.stringMatching(/^mz2026b\._domainkey\.mentor\.example\.\t3600\tIN\tTXT\t"v=DKIM1; k=rsa; p=/),
      '_dmarc.mentor.example.\t3600\tIN\tTXT\t"v=DMARC1; p=quarantine; adkim=r; aspf=r"',
    ]);
  });

  it('prints keys a receiver verifies our signatures with (current now, next after the rotation); another key fails', async () => {
    const { out } = await cli(['dns-records']);
    const zone = new FakeDnsZone().load(out);
    const current = await dkimVerify(await signed('mz2026a', CURRENT), { resolver: zone.resolver });
    expect(current.results.map((r) => [r.signingDomain, r.selector, r.status.result])).toEqual([['mentor.example', 'mz2026a', 'pass']]);
    const rotated = await dkimVerify(await signed('mz2026b', NEXT), { resolver: zone.resolver });
    expect(rotated.results[0].status.result).toBe('pass');
    const forged = await dkimVerify(await signed('mz2026a', rsa()), { resolver: zone.resolver });
    expect(forged.results[0].status.result).toBe('fail');
  });

  it('takes options, reads a key from a file, and prints JSON', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mz-dkim-'));
    writeFileSync(join(dir, 'key.pem'), CURRENT);
    const { DKIM_NEXT_SELECTOR: _s, DKIM_NEXT_PRIVATE_KEY: _k, ...env } = ENV;
    const { code, out } = await cli(['dns-records', '--json', '--mx-host', 'mx.mentor.example', '--spf', 'include:_spf.relay.example', '--dmarc-policy=reject', '--dmarc-rua', 'mailto:dmarc@mentor.example'], { ...env, DKIM_PRIVATE_KEY: join(dir, 'key.pem') });
    expect(code).toBe(0);
    const json = JSON.parse(out.join('\n'));
    expect(json.warnings).toEqual([]);
    expect(json.records.map((r: { name: string; type: string; values: string[] }) => [r.name, r.type, r.values.join('')])).toEqual([
      ['reply.mentor.example', 'MX', '10 mx.mentor.example.'],
      ['reply.mentor.example', 'TXT', 'v=spf1 include:_spf.relay.example -all'],
      ['_smtp._tls.reply.mentor.example', 'TXT', 'v=TLSRPTv1; rua=https://mentor.example/api/tlsrpt'],
      ['mz2026a._domainkey.mentor.example', 'TXT', expect.stringMatching(/^v=DKIM1; k=rsa; p=MIIB/)],
      ['_dmarc.mentor.example', 'TXT', 'v=DMARC1; p=reject; adkim=r; aspf=r; rua=mailto:dmarc@mentor.example'],
    ]);
  });

  it('refuses bad input with a message and exit 2: weak or non-RSA keys, half a rotation, bad options', async () => {
    const ed = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const cases: [string[], Record<string, string>, RegExp][] = [
      [['dns-records'], { ...ENV, DKIM_PRIVATE_KEY: rsa(512) }, /DKIM_PRIVATE_KEY: 512-bit key/],
      [['dns-records'], { ...ENV, DKIM_PRIVATE_KEY: ed }, /DKIM_PRIVATE_KEY: an RSA key is required/],
      [['dns-records'], { ...ENV, DKIM_PRIVATE_KEY: '/nonexistent/key.pem' }, /DKIM_PRIVATE_KEY: neither PEM text nor a readable file/],
      [['dns-records'], { ...ENV, DKIM_NEXT_PRIVATE_KEY: '' }, /DKIM_NEXT_PRIVATE_KEY: DKIM_NEXT_SELECTOR and DKIM_NEXT_PRIVATE_KEY go together/],
      [['dns-records'], { ...ENV, DKIM_SELECTOR: '' }, /DKIM_SELECTOR: DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY go together/],
      [['dns-records', '--dmarc-policy', 'always'], ENV, /--dmarc-policy must be one of/],
      [['dns-records', '--spf', 'ip4:1.2.3.4 +all'], ENV, /--spf takes mechanisms only/],
      [['dns-records', '--frobnicate'], ENV, /unknown option --frobnicate/],
    ];
    for (const [args, env, message] of cases) {
      const r = await cli(args, env);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.err.join('\n')).toMatch(message);
    }
  });

  it('warns when DKIM is off or the domains do not align, and lists its commands', async () => {
    const { code, out, err } = await cli(['dns-records'], { REPLY_DOMAIN: 'reply.other.example', MAIL_FROM: 'mentor@mentor.example' });
    expect(code).toBe(0);
    expect(err.join('\n')).toMatch(/DKIM is not configured/);
    expect(err.join('\n')).toMatch(/REPLY_DOMAIN reply\.other\.example does not align/);
    // the default APP_BASE_URL is plain http: no TLS-RPT record, since reports are posted over https only
    expect(err.join('\n')).toMatch(/APP_BASE_URL is not https: no _smtp\._tls record/);
    expect(out.filter((l) => !l.startsWith(';')).join('\n')).not.toMatch(/_smtp\._tls/);
    expect(out[0]).toMatch(/^; WARNING/);
    const help = await cli(['--help']);
    expect(help.out.join('\n')).toMatch(/dns-records\s+Print the DNS records/);
    const bare = await cli([]);
    expect(bare.code).toBe(2);
    expect(bare.err.join('\n')).toMatch(/dns-records\s+Print the DNS records/);
    expect((await cli(['nope'])).code).toBe(2);
  });

  it('with MTA-STS on, prints _mta-sts with an id derived from the policy the api serves: a new policy, a new id', async () => {
    const env = { ...ENV, MTA_STS_MODE: 'testing' };
    const id = (o: Record<string, string>) => cli(['dns-records', '--json'], o).then((r) => JSON.parse(r.out.join('\n')).records.find((x: { name: string }) => x.name === '_mta-sts.reply.mentor.example')?.values.join(''));
    const testing = await id(env);
    expect(testing).toBe(`v=STSv1; id=${mtaStsPolicyId(parseConfig(env))}`);
    expect(testing).toMatch(/^v=STSv1; id=[0-9a-f]{20}$/);
    expect(await id(env)).toBe(testing);
    expect(await id({ ...env, MTA_STS_MODE: 'enforce' })).not.toBe(testing);
    expect(await id({ ...env, MTA_STS_MX: 'mx1.reply.mentor.example' })).not.toBe(testing);
    expect(await id(ENV)).toBeUndefined(); // mode none (the default): no record
  });

  it('splits long TXT values into 255-byte strings', () => {
    expect(txtStrings('x'.repeat(600)).map((s) => s.length)).toEqual([255, 255, 90]);
  });
});
