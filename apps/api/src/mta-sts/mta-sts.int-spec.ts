/**
 * The MTA-STS policy (RFC 8461) over real HTTP: only for the host mta-sts.<REPLY_DOMAIN>, as
 * text/plain STSv1 lines in the configured mode, naming the configured MX hosts.
 */
import { request } from 'node:http';
import { createTestEnv } from '../../../../test/support/test-env';
import { type ApiHarness, startApi } from '../testing/api-harness';
import { mtaStsPolicy } from './mta-sts.controller';

jest.setTimeout(60_000);

/** GET with a chosen Host header (fetch may not set one). */
function get(url: string, path: string, host: string): Promise<{ status: number; type: string; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('GET /.well-known/mta-sts.txt', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApi(await createTestEnv(), { MTA_STS_MODE: 'enforce', MTA_STS_MX: 'mx1.reply.mentor.test, *.mx.reply.mentor.test', MTA_STS_MAX_AGE: '86400' });
  });
  afterAll(() => h?.close());

  it('serves the STSv1 policy on mta-sts.<REPLY_DOMAIN>', async () => {
    const res = await get(h.url, '/.well-known/mta-sts.txt', 'mta-sts.reply.mentor.test');
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^text\/plain/);
    expect(res.body).toBe('version: STSv1\r\nmode: enforce\r\nmx: mx1.reply.mentor.test\r\nmx: *.mx.reply.mentor.test\r\nmax_age: 86400\r\n');
  });

  it('is not served on any other host (the web app, a look-alike)', async () => {
    for (const host of ['localhost', 'mta-sts.evil.example', 'reply.mentor.test', 'mta-sts.reply.mentor.test.evil.example']) {
      expect([host, (await get(h.url, '/.well-known/mta-sts.txt', host)).status]).toEqual([host, 404]);
    }
  });
});

describe('mtaStsPolicy', () => {
  it('defaults the MX to REPLY_DOMAIN; mode and max_age as configured', () => {
    expect(mtaStsPolicy({ MTA_STS_MODE: 'testing', MTA_STS_MX: undefined, MTA_STS_MAX_AGE: 604800, REPLY_DOMAIN: 'reply.example.org' }))
      .toBe('version: STSv1\r\nmode: testing\r\nmx: reply.example.org\r\nmax_age: 604800\r\n');
  });
});
