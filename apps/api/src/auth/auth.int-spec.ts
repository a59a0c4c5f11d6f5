/**
 * Magic-link sign-in over real HTTP against the in-process api (real Postgres and Redis):
 * enumeration-safe, rate-limited login-link requests; confirm pages that never consume; single-use,
 * expiring, hashed tokens; sessions that logout revokes.
 */
import { JobName, QueueName } from '@mz/contracts';
import { hashToken } from '@mz/domain';
import { QueueService } from '@mz/platform';
import { createTestEnv } from '../../../../test/support/test-env';
import { type ApiHarness, sessionCookie, startApi } from '../testing/api-harness';

jest.setTimeout(60_000);

describe('auth: magic links and sessions', () => {
  let h: ApiHarness;
  let ipSeq = 0;
  /** Each test speaks from its own client IP (this api trusts X-Forwarded-For from loopback: TRUST_PROXY) so IP limits don't mix. */
  const ip = () => ({ 'x-forwarded-for': `198.51.100.${++ipSeq}` });

  beforeAll(async () => {
    h = await startApi(await createTestEnv(), { TRUST_PROXY: 'loopback' });
  });
  afterAll(async () => {
    await h?.close();
  });

  const tokensOf = (email: string) =>
    h.ds.query(`SELECT t.* FROM login_token t JOIN app_user u ON u.id = t.user_id WHERE u.email = $1 ORDER BY t.created_at`, [email]);

  describe('POST /api/auth/login-link', () => {
    it('answers the same 202 for a new and a known address, signs the new one up and queues a mail with an unminted token', async () => {
      const known = await h.createUser({ email: 'known@example.test' });
      const a = await h.request('POST', '/api/auth/login-link', { json: { email: 'Known@Example.test ' }, headers: ip() });
      const b = await h.request('POST', '/api/auth/login-link', { json: { email: 'newcomer@example.test' }, headers: ip() });
      expect(a.status).toBe(202);
      expect(b.status).toBe(202);
      expect(await a.text()).toBe(await b.text());

      const [created] = await h.ds.query(`SELECT id, role, status FROM app_user WHERE email = 'newcomer@example.test'`);
      expect(created).toMatchObject({ role: 'subscriber', status: 'active' });

      for (const [email] of [[known.email], ['newcomer@example.test']]) {
        const rows = await tokensOf(email);
        expect(rows).toHaveLength(1);
        expect(rows[0]).toMatchObject({ purpose: 'login', token_hash: null, used_at: null });
        const ttl = new Date(rows[0].expires_at).getTime() - new Date(rows[0].created_at).getTime();
        expect(ttl).toBeGreaterThan(14 * 60_000);
        expect(ttl).toBeLessThanOrEqual(15 * 60_000 + 1000);
        const job = await h.svc.app.get(QueueService).queue(QueueName.MailTransactional).getJob(rows[0].id);
        expect(job?.name).toBe(JobName.SendLoginLink);
        expect(job?.data).toEqual({ v: 1, loginTokenId: rows[0].id });
      }
    });

    it('sends nothing to a suspended or deleted account, with the same answer', async () => {
      const reference = await h.request('POST', '/api/auth/login-link', { json: { email: 'someone-else@example.test' }, headers: ip() });
      for (const status of ['suspended', 'deleted']) {
        const u = await h.createUser({ status });
        const res = await h.request('POST', '/api/auth/login-link', { json: { email: u.email }, headers: ip() });
        expect(res.status).toBe(202);
        expect(await res.text()).toBe(await reference.clone().text());
        expect(await tokensOf(u.email)).toHaveLength(0);
      }
    });

    it('limits one address to 5 links an hour: the 6th answers 202 alike but queues no mail', async () => {
      const email = 'limited@example.test';
      const answers: string[] = [];
      for (let i = 0; i < 7; i++) {
        const res = await h.request('POST', '/api/auth/login-link', { json: { email }, headers: ip() });
        expect(res.status).toBe(202);
        answers.push(await res.text());
      }
      expect(new Set(answers).size).toBe(1);
      expect(await tokensOf(email)).toHaveLength(5);
    });

    it('counts an inbox however it is spelled: case, spaces and +tags share one limit', async () => {
      const spellings = ['tagged@example.test', ' Tagged@Example.TEST ', 'tagged+1@example.test', 'TAGGED+news@example.test', 'tagged+x+y@example.test', 'tagged+6@example.test'];
      for (const email of spellings) expect((await h.request('POST', '/api/auth/login-link', { json: { email }, headers: ip() })).status).toBe(202);
      const issued = await h.ds.query(`SELECT count(*)::int AS n FROM login_token t JOIN app_user u ON u.id = t.user_id WHERE u.email LIKE 'tagged%@example.test'`);
      expect(issued[0].n).toBe(5); // the sixth spelling of the same inbox got no mail
    });

    it('limits one IP to 30 requests in 15 minutes with 429 and Retry-After', async () => {
      const headers = ip();
      for (let i = 0; i < 30; i++) {
        const res = await h.request('POST', '/api/auth/login-link', { json: { email: `burst-${i}@example.test` }, headers });
        expect(res.status).toBe(202);
      }
      const over = await h.request('POST', '/api/auth/login-link', { json: { email: 'burst-last@example.test' }, headers });
      expect(over.status).toBe(429);
      expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await tokensOf('burst-last@example.test')).toHaveLength(0);
      // Another client is unaffected.
      expect((await h.request('POST', '/api/auth/login-link', { json: { email: 'burst-last@example.test' }, headers: ip() })).status).toBe(202);
    });

    it('an untrusted peer cannot pick its address with X-Forwarded-For', async () => {
      // Default: no proxy trusted. A second api, the same Redis: its per-IP counter sees the socket's address only.
      for (const trust of [{}, { TRUST_PROXY: '10.0.0.0/8' }] as Record<string, string>[]) {
        const direct = await startApi(await createTestEnv(), trust);
        try {
          let refused = 0;
          for (let i = 0; i < 31; i++) {
            const res = await direct.request('POST', '/api/auth/login-link', { json: { email: `forged-${i}@example.test` }, headers: { 'x-forwarded-for': `203.0.113.${i}` } });
            if (res.status === 429) refused++;
          }
          expect([trust, refused]).toEqual([trust, 1]); // the 31st, whatever address it claimed
        } finally {
          await direct.close();
        }
      }
    });

    it('behind a trusted proxy, takes the address that proxy saw, not an entry the client wrote in front of it', async () => {
      // The client sends "X-Forwarded-For: 6.6.6.6"; our (loopback) proxy appends the address it saw.
      const u = await h.createUser();
      const res = await h.request('POST', `/login/${await h.loginToken(u.id)}`, { headers: { 'x-forwarded-for': '6.6.6.6, 198.51.100.250' } });
      expect(res.status).toBe(303);
      expect(await h.ds.query(`SELECT ip FROM app_session WHERE user_id = $1`, [u.id])).toEqual([{ ip: '198.51.100.250' }]);
      // and the per-IP limit counts that address too: 30 requests each claiming a new first hop are one client
      const seen = '198.51.100.251';
      for (let i = 0; i < 30; i++) {
        const ok = await h.request('POST', '/api/auth/login-link', { json: { email: `prepended-${i}@example.test` }, headers: { 'x-forwarded-for': `203.0.113.${i}, ${seen}` } });
        expect(ok.status).toBe(202);
      }
      expect((await h.request('POST', '/api/auth/login-link', { json: { email: 'prepended-x@example.test' }, headers: { 'x-forwarded-for': `6.6.6.6, ${seen}` } })).status).toBe(429);
    });

    it('refuses a malformed body with 400 naming the field', async () => {
      const res = await h.request('POST', '/api/auth/login-link', { json: { email: 'not-an-address' }, headers: ip() });
      expect(res.status).toBe(400);
      const body = await res.json();
      expect(body.message).toMatch(/email/);
      expect(body.issues[0].path).toBe('email');
      expect((await h.request('POST', '/api/auth/login-link', { json: { email: 'a@b.test', extra: 1 }, headers: ip() })).status).toBe(400);
    });

    it('answers a no-JS form post with an HTML page', async () => {
      const res = await h.request('POST', '/api/auth/login-link', { form: { email: 'form-user@example.test' }, headers: ip() });
      expect(res.status).toBe(202);
      expect(res.headers.get('content-type')).toMatch(/text\/html/);
      expect(await res.text()).toContain('Check your inbox');
      expect(await tokensOf('form-user@example.test')).toHaveLength(1);
    });
  });

  describe('GET/POST /login/:token', () => {
    it('shows a confirm page with the address masked; GET and HEAD never consume the token', async () => {
      const u = await h.createUser({ email: 'reader@example.test' });
      const token = await h.loginToken(u.id);
      const page = await h.request('GET', `/login/${token}`);
      expect(page.status).toBe(200);
      expect(page.headers.get('cache-control')).toBe('no-store');
      const html = await page.text();
      expect(html).toContain('r•••r@example.test');
      expect(html).not.toContain('reader@example.test');
      expect(html).toContain(`<form method="post" action="/login/${token}">`);
      expect(html).not.toMatch(/<script/i);
      expect((await h.request('HEAD', `/login/${token}`)).status).toBe(200);
      const [row] = await h.ds.query(`SELECT used_at FROM login_token WHERE token_hash = $1`, [hashToken(token)]);
      expect(row.used_at).toBeNull();
    });

    it('POST consumes once: new session cookie (HttpOnly, SameSite=Lax, not Secure on http), 303 to /settings, LOGIN event', async () => {
      const u = await h.createUser();
      const token = await h.loginToken(u.id);
      const res = await h.request('POST', `/login/${token}`);
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/settings');
      const setCookie = res.headers.getSetCookie().find((c) => c.startsWith('mz_session='))!;
      expect(setCookie).toMatch(/HttpOnly/i);
      expect(setCookie).toMatch(/SameSite=Lax/i);
      expect(setCookie).toMatch(/Path=\//);
      expect(setCookie).not.toMatch(/Secure/i);
      const cookie = sessionCookie(res)!;
      const raw = cookie.split('=')[1];

      const [t] = await h.ds.query(`SELECT used_at FROM login_token WHERE token_hash = $1`, [hashToken(token)]);
      expect(t.used_at).not.toBeNull();
      const sessions = await h.ds.query(`SELECT token_hash FROM app_session WHERE user_id = $1`, [u.id]);
      expect(sessions).toEqual([{ token_hash: hashToken(raw) }]);
      const [user] = await h.ds.query(`SELECT last_login_at FROM app_user WHERE id = $1`, [u.id]);
      expect(user.last_login_at).not.toBeNull();
      const events = await h.ds.query(`SELECT type, metadata FROM event_log WHERE user_id = $1`, [u.id]);
      expect(events).toEqual([{ type: 'LOGIN', metadata: { via: 'login', scope: 'full' } }]);

      const me = await h.request('GET', '/api/me', { cookie });
      expect(me.status).toBe(200);
      expect(await me.json()).toMatchObject({ id: u.id, email: u.email, role: 'subscriber', status: 'active' });

      // Reused: refused, no cookie, no second session.
      const again = await h.request('POST', `/login/${token}`);
      expect(again.status).toBe(410);
      expect(sessionCookie(again)).toBeNull();
      expect((await h.request('GET', `/login/${token}`)).status).toBe(410);
      expect(await h.ds.query(`SELECT 1 FROM app_session WHERE user_id = $1`, [u.id])).toHaveLength(1);
    });

    it('stores only hashes: neither the login token nor the session token appears in the database', async () => {
      const u = await h.createUser();
      const token = await h.loginToken(u.id);
      const cookie = sessionCookie(await h.request('POST', `/login/${token}`))!;
      const sessionToken = cookie.split('=')[1];
      const [{ dump }] = await h.ds.query(
        `SELECT (SELECT string_agg(t::text, ' ') FROM login_token t) || (SELECT string_agg(s::text, ' ') FROM app_session s) AS dump`,
      );
      expect(dump).toContain(hashToken(token));
      expect(dump).not.toContain(token);
      expect(dump).not.toContain(sessionToken);
    });

    it('only one of two concurrent POSTs of the same token gets a session', async () => {
      const u = await h.createUser();
      const token = await h.loginToken(u.id);
      const results = await Promise.all([1, 2, 3].map(() => h.request('POST', `/login/${token}`)));
      expect(results.map((r) => r.status).sort()).toEqual([303, 410, 410]);
      expect(await h.ds.query(`SELECT 1 FROM app_session WHERE user_id = $1`, [u.id])).toHaveLength(1);
    });

    it('refuses expired and wrong tokens without a session', async () => {
      const u = await h.createUser();
      const expired = await h.loginToken(u.id, { expiresInMs: -1000 });
      for (const token of [expired, 'x'.repeat(43), 'short', `${expired.slice(0, -1)}A`]) {
        const get = await h.request('GET', `/login/${token}`);
        expect(get.status).toBe(410);
        const post = await h.request('POST', `/login/${token}`);
        expect(post.status).toBe(410);
        expect(sessionCookie(post)).toBeNull();
      }
      expect(await h.ds.query(`SELECT 1 FROM app_session WHERE user_id = $1`, [u.id])).toHaveLength(0);
    });

    it('burns a suspended account\'s token without signing it in', async () => {
      const u = await h.createUser();
      const token = await h.loginToken(u.id);
      await h.ds.query(`UPDATE app_user SET status = 'suspended' WHERE id = $1`, [u.id]);
      expect((await h.request('GET', `/login/${token}`)).status).toBe(410);
      expect((await h.request('POST', `/login/${token}`)).status).toBe(410);
    });

    it('sends admins to /admin (a footer link to their settings, scoped); every login is a new session', async () => {
      const admin = await h.createUser({ role: 'admin' });
      const r1 = await h.request('POST', `/login/${await h.loginToken(admin.id)}`);
      expect(r1.headers.get('location')).toBe('/admin');
      const footer = await h.loginToken(admin.id, { purpose: 'footer_login', expiresInMs: 48 * 3_600_000 });
      expect((await h.request('GET', `/login/${footer}`)).status).toBe(200);
      const r2 = await h.request('POST', `/login/${footer}`);
      expect(r2.status).toBe(303);
      expect(r2.headers.get('location')).toBe('/settings');
      expect(sessionCookie(r2)).not.toBe(sessionCookie(r1));
      expect(await h.ds.query(`SELECT 1 FROM app_session WHERE user_id = $1`, [admin.id])).toHaveLength(2);
      const [ev] = await h.ds.query(`SELECT metadata FROM event_log WHERE user_id = $1 AND type = 'LOGIN' ORDER BY id DESC LIMIT 1`, [admin.id]);
      expect(ev.metadata).toEqual({ via: 'footer_login', scope: 'settings' });
    });
  });

  describe('sessions', () => {
    it('logout revokes the session row and clears the cookie; the old cookie no longer works', async () => {
      const u = await h.createUser();
      const cookie = await h.signIn(u);
      expect((await h.request('GET', '/api/me', { cookie })).status).toBe(200);
      const out = await h.request('POST', '/api/auth/logout', { cookie });
      expect(out.status).toBe(204);
      expect(out.headers.getSetCookie().join(';')).toMatch(/mz_session=;.*Expires=Thu, 01 Jan 1970/);
      const [s] = await h.ds.query(`SELECT revoked_at FROM app_session WHERE user_id = $1`, [u.id]);
      expect(s.revoked_at).not.toBeNull();
      expect((await h.request('GET', '/api/me', { cookie })).status).toBe(401);
      const events = await h.ds.query(`SELECT type FROM event_log WHERE user_id = $1 ORDER BY id`, [u.id]);
      expect(events.map((e: { type: string }) => e.type)).toEqual(['LOGIN', 'LOGOUT']);
    });

    it('lets me set and clear my display name', async () => {
      const cookie = await h.signIn(await h.createUser());
      expect((await (await h.request('PATCH', '/api/me', { cookie, json: { name: '  Ada  ' } })).json()).name).toBe('Ada');
      expect((await (await h.request('PATCH', '/api/me', { cookie, json: { name: '' } })).json()).name).toBeNull();
      expect((await h.request('PATCH', '/api/me', { cookie, json: { name: 'x'.repeat(101) } })).status).toBe(400);
      expect((await h.request('PATCH', '/api/me', { json: { name: 'x' } })).status).toBe(401);
    });

    it('refuses anonymous (401), unknown cookies (401) and suspended users (403)', async () => {
      expect((await h.request('GET', '/api/me')).status).toBe(401);
      expect((await h.request('GET', '/api/me', { cookie: 'mz_session=' + 'A'.repeat(43) })).status).toBe(401);
      const u = await h.createUser();
      const cookie = await h.signIn(u);
      await h.ds.query(`UPDATE app_user SET status = 'suspended' WHERE id = $1`, [u.id]);
      expect((await h.request('GET', '/api/me', { cookie })).status).toBe(403);
    });
  });

  describe('what a session may do, and its cookie', () => {
    it("a letter's footer link opens the admin's own settings but never the console, the admin API or Bull Board", async () => {
      const admin = await h.createUser({ role: 'admin' });
      const footerToken = await h.loginToken(admin.id, { purpose: 'footer_login' });
      const res = await h.request('POST', `/login/${footerToken}`);
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/settings');
      const footer = sessionCookie(res)!;
      const me = await (await h.request('GET', '/api/me', { cookie: footer })).json();
      expect(me).toMatchObject({ role: 'admin', sessionScope: 'settings' });
      expect((await h.request('PATCH', '/api/me', { cookie: footer, json: { name: 'Ada' } })).status).toBe(200);
      const refused = await h.request('GET', '/api/admin/metrics?days=7', { cookie: footer });
      expect(refused.status).toBe(403);
      expect((await refused.json()).message).toMatch(/The console needs a sign-in link/);
      expect((await h.request('GET', '/admin/queues/api/queues', { cookie: footer })).status).toBe(403);
      const [event] = await h.ds.query(`SELECT metadata FROM event_log WHERE type = 'LOGIN' AND user_id = $1`, [admin.id]);
      expect(event.metadata).toEqual({ via: 'footer_login', scope: 'settings' });

      // A sign-in link requested on the site opens the console.
      const full = await h.signIn(admin);
      expect((await (await h.request('GET', '/api/me', { cookie: full })).json()).sessionScope).toBe('full');
      expect((await h.request('GET', '/api/admin/metrics?days=7', { cookie: full })).status).toBe(200);
      expect((await h.request('GET', '/admin/queues/api/queues', { cookie: full })).status).toBe(200);
    });

    it('on https the cookie is __Host-mz_session (Secure, Path=/, no Domain) and a plain mz_session is ignored', async () => {
      const secure = await startApi(await createTestEnv(), { APP_BASE_URL: 'https://mentor.example.test' });
      try {
        const u = await secure.createUser();
        const res = await secure.request('POST', `/login/${await secure.loginToken(u.id)}`);
        const set = res.headers.getSetCookie().find((c) => c.startsWith('__Host-mz_session='))!;
        expect(set).toMatch(/; Path=\/;/);
        expect(set).toMatch(/; Secure/);
        expect(set).toMatch(/; HttpOnly/);
        expect(set).not.toMatch(/Domain=/i);
        expect(res.headers.getSetCookie().some((c) => c.startsWith('mz_session='))).toBe(false);
        const value = set.split(';')[0].split('=')[1];
        expect((await secure.request('GET', '/api/me', { cookie: `__Host-mz_session=${value}` })).status).toBe(200);
        // A cookie without the prefix could have been planted by a sibling subdomain: not read.
        expect((await secure.request('GET', '/api/me', { cookie: `mz_session=${value}` })).status).toBe(401);
        const out = await secure.request('POST', '/api/auth/logout', { cookie: `__Host-mz_session=${value}` });
        expect(out.headers.getSetCookie().join(';')).toMatch(/__Host-mz_session=;/);
      } finally {
        await secure.close();
      }
    });
  });

  describe('GET /api/auth/session (the web app\'s probe)', () => {
    it('answers 200 with the user for a live session and 200 { user: null } otherwise — forged, revoked and suspended included', async () => {
      const u = await h.createUser();
      const cookie = await h.signIn(u);
      const live = await h.request('GET', '/api/auth/session', { cookie });
      expect(live.status).toBe(200);
      expect((await live.json()).user).toMatchObject({ id: u.id, email: u.email });

      for (const c of [undefined, 'mz_session=' + 'A'.repeat(43), 'mz_session=../../etc/passwd', `mz_session=${'x'.repeat(5000)}`]) {
        const res = await h.request('GET', '/api/auth/session', c ? { cookie: c } : {});
        expect(res.status).toBe(200);
        expect(await res.json()).toEqual({ user: null });
      }
      await h.ds.query(`UPDATE app_user SET status = 'suspended' WHERE id = $1`, [u.id]);
      expect(await (await h.request('GET', '/api/auth/session', { cookie })).json()).toEqual({ user: null });
    });
  });
});
