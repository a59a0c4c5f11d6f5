/**
 * Cross-cutting HTTP security of the api over real HTTP: the Origin check on state-changing
 * requests, security headers, body limits, the admin role on every admin route and on Bull Board
 * (a raw express router outside Nest's guards), and the OpenAPI document.
 */
import { QueueService } from '@mz/platform';
import { createTestEnv } from '../../../../test/support/test-env';
import { type ApiHarness, startApi } from '../testing/api-harness';

jest.setTimeout(60_000);

describe('api security', () => {
  let h: ApiHarness;
  let subscriberCookie: string;
  let adminCookie: string;

  beforeAll(async () => {
    h = await startApi(await createTestEnv());
    subscriberCookie = await h.signIn(await h.createUser());
    adminCookie = await h.signIn(await h.createUser({ role: 'admin' }));
  });
  afterAll(async () => {
    await h?.close();
  });

  describe('Origin check', () => {
    it('refuses a state-changing request from a foreign Origin, even with a valid session', async () => {
      const res = await h.request('POST', '/api/auth/logout', { cookie: subscriberCookie, origin: 'https://evil.example' });
      expect(res.status).toBe(403);
      expect((await res.json()).message).toMatch(/Cross-origin/);
      // The session survived: the request never reached the handler.
      expect((await h.request('GET', '/api/me', { cookie: subscriberCookie })).status).toBe(200);
      for (const [method, path] of [['PUT', '/api/subscriptions/focus'], ['DELETE', '/api/me'], ['PATCH', '/api/admin/topics/x'], ['POST', '/api/auth/login-link']]) {
        expect((await h.request(method, path, { cookie: adminCookie, origin: 'http://localhost:3001', json: {} })).status).toBe(403);
      }
      expect((await h.request('POST', '/api/auth/login-link', { origin: 'null', json: { email: 'x@example.test' } })).status).toBe(403);
    });

    it('refuses a foreign Referer when Origin is absent; allows our origin and non-browser clients', async () => {
      const foreign = await h.request('POST', '/api/auth/login-link', { origin: null, headers: { referer: 'https://evil.example/page' }, json: { email: 'r@example.test' } });
      expect(foreign.status).toBe(403);
      const ours = await h.request('POST', '/api/auth/login-link', { origin: null, headers: { referer: 'http://localhost:3000/' }, json: { email: 'r@example.test' } });
      expect(ours.status).toBe(202);
      const sameOrigin = await h.request('POST', '/api/auth/login-link', { json: { email: 'r2@example.test' } });
      expect(sameOrigin.status).toBe(202);
      const noHeaders = await h.request('POST', '/api/auth/login-link', { origin: null, json: { email: 'r3@example.test' } });
      expect(noHeaders.status).toBe(202);
    });

    it('does not apply to reads', async () => {
      expect((await h.request('GET', '/api/topics', { origin: 'https://evil.example' })).status).toBe(200);
    });
  });

  describe('headers and bodies', () => {
    it('sends helmet headers with a CSP allowing only our own scripts', async () => {
      const res = await h.request('GET', '/api/topics');
      const csp = res.headers.get('content-security-policy')!;
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("object-src 'none'");
      expect(csp).not.toContain('upgrade-insecure-requests'); // plain-http base URL
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('referrer-policy')).toBe('same-origin');
      expect(res.headers.get('x-powered-by')).toBeNull();
    });

    it('refuses oversized bodies with 413 and malformed JSON with 400', async () => {
      const big = await h.request('POST', '/api/auth/login-link', { json: { email: `${'a'.repeat(300_000)}@example.test` } });
      expect(big.status).toBe(413);
      const bad = await fetch(`${h.url}/api/auth/login-link`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"email":' });
      expect(bad.status).toBe(400);
    });
  });

  describe('admin role', () => {
    const adminGets = ['/api/admin/topics', '/api/admin/personas', '/api/admin/users', '/api/admin/letters', '/api/admin/replies',
      '/api/admin/replies/review', '/api/admin/footer', '/api/admin/config', '/api/admin/metrics', '/api/admin/audit'];

    it('refuses every admin route to anonymous (401) and subscribers (403), and serves admins', async () => {
      for (const path of adminGets) {
        expect([path, (await h.request('GET', path)).status]).toEqual([path, 401]);
        expect([path, (await h.request('GET', path, { cookie: subscriberCookie })).status]).toEqual([path, 403]);
        expect([path, (await h.request('GET', path, { cookie: adminCookie })).status]).toEqual([path, 200]);
      }
      const writes: [string, string, unknown][] = [
        ['POST', '/api/admin/personas', { name: 'X', era: 'Y', styleNotes: 'Z' }],
        ['PUT', '/api/admin/config/log_prompts', { value: true }],
        ['POST', '/api/admin/simulate-reply', { letterId: '00000000-0000-4000-8000-000000000000', text: 'hi' }],
      ];
      for (const [method, path, json] of writes) {
        expect((await h.request(method, path, { json })).status).toBe(401);
        expect((await h.request(method, path, { json, cookie: subscriberCookie })).status).toBe(403);
      }
      const [{ n }] = await h.ds.query(`SELECT count(*)::int AS n FROM persona WHERE name = 'X'`);
      expect(n).toBe(0);
    });
  });

  describe('Bull Board at /admin/queues', () => {
    it('sends anonymous browsers to sign in and refuses anonymous API calls', async () => {
      const page = await h.request('GET', '/admin/queues', { headers: { accept: 'text/html' } });
      expect(page.status).toBe(302);
      expect(page.headers.get('location')).toBe('/');
      expect((await h.request('GET', '/admin/queues/api/queues', { headers: { accept: 'application/json' } })).status).toBe(401);
    });

    it('refuses subscribers with 403, on the page, its API and its static files', async () => {
      for (const path of ['/admin/queues', '/admin/queues/api/queues', '/admin/queues/static/js/main.js']) {
        expect([path, (await h.request('GET', path, { cookie: subscriberCookie })).status]).toEqual([path, 403]);
      }
      expect((await h.request('PUT', '/admin/queues/api/queues/letters.compose/pause', { cookie: subscriberCookie })).status).toBe(403);
    });

    it('serves admins the board for all five queues', async () => {
      const page = await h.request('GET', '/admin/queues', { cookie: adminCookie, headers: { accept: 'text/html' } });
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('Mentor Zero queues');
      const api = await h.request('GET', '/admin/queues/api/queues', { cookie: adminCookie });
      expect(api.status).toBe(200);
      const names = ((await api.json()).queues as { name: string }[]).map((q) => q.name).sort();
      expect(names).toEqual(['letters.compose', 'letters.send', 'llm.batch', 'mail.transactional', 'maintenance', 'replies.process']);
    });

    it('applies the Origin check to the board\'s actions too', async () => {
      const res = await h.request('PUT', '/admin/queues/api/queues/maintenance/pause', { cookie: adminCookie, origin: 'https://evil.example' });
      expect(res.status).toBe(403);
      expect(await h.svc.app.get(QueueService).queue('maintenance').isPaused()).toBe(false);
    });
  });

  describe('OpenAPI', () => {
    it('documents the endpoints at /api/docs', async () => {
      const ui = await h.request('GET', '/api/docs');
      expect(ui.status).toBe(200);
      const html = await ui.text();
      expect(html).toContain('swagger');
      // The CSP allows no inline script, so every script of the docs page must be a file.
      expect(html.match(/<script(?![^>]*\bsrc=)[^>]*>\s*\S/g)).toBeNull();
      const doc = await (await h.request('GET', '/api/docs/openapi.json')).json();
      const paths = Object.keys(doc.paths);
      for (const p of ['/api/auth/login-link', '/api/me', '/api/subscriptions', '/api/schedule/preview', '/api/admin/letters/{id}/retry', '/u/{token}', '/login/{token}']) {
        expect(paths).toContain(p);
      }
      const body = doc.paths['/api/auth/login-link'].post.requestBody.content['application/json'].schema;
      expect(body.properties.email.type).toBe('string');
    });
  });
});
