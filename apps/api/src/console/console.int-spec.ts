/**
 * The web console as the api serves it, over real HTTP: the HTML shell on every app route (and
 * only there), CSP-friendly (no inline script), /admin refused by status to non-admins, Bull Board
 * left alone at /admin/queues, and the content-hashed assets from the build's manifest with a
 * long cache — nothing outside the build directory reachable through /assets.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestEnv } from '../../../../test/support/test-env';
import { type ApiHarness, startApi } from '../testing/api-harness';

jest.setTimeout(60_000);

const WEB_DIR = join(__dirname, '..', '..', '..', '..', 'dist', 'apps', 'console');

describe('web console (served by the api)', () => {
  let h: ApiHarness;
  let manifest: Record<string, string>;
  let subscriberCookie: string;
  let adminCookie: string;

  beforeAll(async () => {
    // Global setup ran `scripts/build.mjs`, which runs apps/console/build.mjs.
    manifest = JSON.parse(readFileSync(join(WEB_DIR, 'manifest.json'), 'utf8'));
    h = await startApi(await createTestEnv());
    subscriberCookie = await h.signIn(await h.createUser());
    adminCookie = await h.signIn(await h.createUser({ role: 'admin' }));
  });
  afterAll(async () => {
    await h?.close();
  });

  it('serves the same HTML shell for every app route, pointing at the hashed bundle', async () => {
    for (const path of ['/', '/settings', '/letters', '/letters?topic=focus']) {
      const res = await h.request('GET', path);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(res.headers.get('cache-control')).toBe('no-cache');
      const html = await res.text();
      expect(html).toContain(`<script type="module" src="${manifest['main.js']}"></script>`);
      expect(html).toContain(`<link rel="stylesheet" href="${manifest['main.css']}">`);
      expect(html).toContain(`content="${manifest['letter.css']}"`);
      expect(html).toContain('<main id="main"'); // the no-JS fallback has a landmark and the sign-in form
      expect(html).toContain('action="/api/auth/login-link"');
    }
    expect(manifest['main.js']).toMatch(/^\/assets\/main-[A-Z0-9]{8}\.js$/);
  });

  it('has no inline script and runs under a CSP that forbids inline script', async () => {
    const res = await h.request('GET', '/');
    const html = await res.text();
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts).toHaveLength(1);
    for (const [, attrs, body] of scripts) {
      expect(attrs).toMatch(/\bsrc="\/assets\//);
      expect(body.trim()).toBe('');
    }
    expect(html).not.toMatch(/\son[a-z]+=/i); // no inline event handlers
    const csp = res.headers.get('content-security-policy') ?? '';
    const scriptSrc = /script-src ([^;]*)/.exec(csp)?.[1] ?? '';
    expect(scriptSrc).toContain("'self'");
    expect(scriptSrc).not.toContain('unsafe-inline');
  });

  it('refuses /admin pages to anonymous (401) and non-admin (403) users, serves them to admins', async () => {
    for (const path of ['/admin', '/admin/prompts', '/admin/letters/00000000-0000-4000-8000-000000000000']) {
      expect((await h.request('GET', path)).status).toBe(401);
      const asSubscriber = await h.request('GET', path, { cookie: subscriberCookie });
      expect(asSubscriber.status).toBe(403);
      // Same shell, so the page can explain; the admin API refuses the data regardless.
      expect(await asSubscriber.text()).toContain(manifest['main.js']);
      const asAdmin = await h.request('GET', path, { cookie: adminCookie });
      expect(asAdmin.status).toBe(200);
      expect(await asAdmin.text()).toContain(manifest['main.js']);
    }
    expect((await h.request('GET', '/api/admin/users', { cookie: subscriberCookie })).status).toBe(403);
  });

  it("refuses /admin (403, same shell) to an admin signed in by a letter's footer link", async () => {
    const footerCookie = await h.signIn(await h.createUser({ role: 'admin' }), 'footer_login');
    for (const path of ['/admin', '/admin/suppressions']) {
      const res = await h.request('GET', path, { cookie: footerCookie });
      expect([path, res.status]).toEqual([path, 403]);
      expect(await res.text()).toContain(manifest['main.js']);
    }
    expect((await h.request('GET', '/settings', { cookie: footerCookie })).status).toBe(200);
  });

  it('leaves /admin/queues to Bull Board', async () => {
    const anonymous = await h.request('GET', '/admin/queues', { headers: { accept: 'text/html' } });
    expect(anonymous.status).toBe(302);
    const asSubscriber = await h.request('GET', '/admin/queues/', { cookie: subscriberCookie, headers: { accept: 'text/html' } });
    expect(asSubscriber.status).toBe(403);
    const board = await h.request('GET', '/admin/queues', { cookie: adminCookie, headers: { accept: 'text/html' } });
    expect(board.status).toBe(200);
    const html = await board.text();
    expect(html).not.toContain(manifest['main.js']);
    expect(html).toContain('<base href="/admin/queues/"');
  });

  it('serves the built assets with a year-long immutable cache and their content types', async () => {
    const types: Record<string, RegExp> = { 'main.js': /javascript/, 'main.css': /text\/css/, 'letter.css': /text\/css/, 'favicon.svg': /image\/svg\+xml/ };
    for (const [name, type] of Object.entries(types)) {
      const res = await h.request('GET', manifest[name]);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(type);
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      const body = await res.text();
      expect(body).toBe(readFileSync(join(WEB_DIR, manifest[name]), 'utf8'));
    }
  });

  it('serves nothing outside the build through /assets, and no shell for unknown pages', async () => {
    for (const path of ['/assets/nope-ABCDEFGH.js', '/assets/..%2Fmanifest.json', '/assets/..%2F..%2Fsrc%2Fmain.js', '/assets/%2e%2e%2fmanifest.json', '/assets/.hidden']) {
      const res = await h.request('GET', path);
      expect([400, 404]).toContain(res.status);
      expect(await res.text()).not.toContain('"main.js"');
    }
    const unknown = await h.request('GET', '/not-a-page');
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).not.toContain(manifest['main.js']);
  });
});
